//! The tfplugin6.Provider gRPC service over a [`Provider`]: decodes each request with the
//! resource's schema, calls the provider, encodes the answer. Resource-independent protocol
//! rules live here: write-only attributes never leave in plan or state, values that don't fit
//! the schema become diagnostics (never panics or gRPC errors), unknown resource types are
//! reported by name.
//!
//! RPCs not in `proto/tfplugin6.proto` are answered UNIMPLEMENTED by tonic's router.
//!
//! This file holds the service, its lookups and the one trait impl, whose handlers call into
//! the files named for their topic: provider, resources, list resources, actions.

mod actions;
mod list;
mod provider;
mod resources;

use self::actions::ActionEvents;
use self::list::ListStream;
use super::diagnostics::{Diagnostic, Diagnostics};
use super::proto::tfplugin6 as pb;
use super::provider::Provider;
use super::schema::{IdentitySchema, Schema};
use super::value::{Type, Value};
use super::{wire, write_only};
use std::collections::HashMap;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Largest message accepted or sent. Terraform itself allows up to 2 GiB (state can be big);
/// gRPC's default of 4 MiB would fail on large states.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

struct ResourceType {
    schema: Schema,
    ty: Type,
    identity: Option<(IdentitySchema, Type)>,
}

/// The tfplugin6.Provider service. Build it with [`ProviderService::new`] and serve it with
/// [`ProviderService::into_server`] (or let [`super::serve::serve`] do both).
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    provider_ty: Type,
    resources: HashMap<String, ResourceType>,
    /// List resource type name -> value type of its `config` block.
    list_types: HashMap<String, Type>,
    /// Action type name -> value type of its config.
    actions: HashMap<String, Type>,
    /// Answers that never change, built once.
    schema_response: pb::get_provider_schema::Response,
    metadata_response: pb::get_metadata::Response,
    identity_response: pb::get_resource_identity_schemas::Response,
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
        // Terraform 1.14+ asks for generated configuration; older clients ignore this.
        generate_resource_config: true,
    }
}

impl ProviderService {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let schemas = provider.schemas();
        let identities: HashMap<&str, &IdentitySchema> = schemas
            .identities
            .iter()
            .map(|(n, s)| (n.as_str(), s))
            .collect();
        let resources = schemas
            .resources
            .iter()
            .map(|(name, schema)| {
                let identity = identities
                    .get(name.as_str())
                    .map(|s| ((*s).clone(), s.value_type()));
                (
                    name.clone(),
                    ResourceType {
                        schema: schema.clone(),
                        ty: schema.block.value_type(),
                        identity,
                    },
                )
            })
            .collect();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(wire::schema(&schemas.provider)),
            resource_schemas: schemas
                .resources
                .iter()
                .map(|(n, s)| (n.clone(), wire::schema(s)))
                .collect(),
            list_resource_schemas: schemas
                .list_resources
                .iter()
                .map(|(n, s)| (n.clone(), wire::schema(s)))
                .collect(),
            action_schemas: schemas
                .actions
                .iter()
                .map(|(n, s)| {
                    let schema = Some(wire::schema(s));
                    (n.clone(), pb::ActionSchema { schema })
                })
                .collect(),
            server_capabilities: Some(server_capabilities()),
            ..Default::default()
        };
        let metadata_response = pb::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            resources: schemas
                .resources
                .iter()
                .map(|(n, _)| pb::get_metadata::ResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            list_resources: schemas
                .list_resources
                .iter()
                .map(|(n, _)| pb::get_metadata::ListResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            actions: schemas
                .actions
                .iter()
                .map(|(n, _)| pb::get_metadata::ActionMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            ..Default::default()
        };
        let identity_response = pb::get_resource_identity_schemas::Response {
            identity_schemas: schemas
                .identities
                .iter()
                .map(|(n, s)| (n.clone(), wire::identity_schema(s)))
                .collect(),
            diagnostics: Vec::new(),
        };
        let list_types = schemas
            .list_resources
            .iter()
            .map(|(n, s)| (n.clone(), s.block.value_type()))
            .collect();
        let actions = schemas
            .actions
            .iter()
            .map(|(n, s)| (n.clone(), s.block.value_type()))
            .collect();
        ProviderService {
            provider_ty: schemas.provider.block.value_type(),
            provider,
            resources,
            list_types,
            actions,
            schema_response,
            metadata_response,
            identity_response,
        }
    }

    /// The tonic service, with message size limits Terraform needs.
    pub fn into_server(self) -> pb::provider_server::ProviderServer<Self> {
        pb::provider_server::ProviderServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceType, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            let mut known: Vec<&str> = self.resources.keys().map(String::as_str).collect();
            known.sort_unstable();
            Diagnostic::error(
                "Unknown resource type",
                format!(
                    "This provider has no resource type {type_name:?}. It has: {}.",
                    known.join(", ")
                ),
            )
            .into()
        })
    }

    fn list_type(&self, type_name: &str) -> Result<&Type, Diagnostics> {
        self.list_types.get(type_name).ok_or_else(|| {
            let mut known: Vec<&str> = self.list_types.keys().map(String::as_str).collect();
            known.sort_unstable();
            Diagnostic::error(
                "Unknown list resource type",
                format!(
                    "This provider has no list resource {type_name:?}. It has: {}.",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
            .into()
        })
    }

    /// The config type of an action, or the error naming the ones there are.
    fn action(&self, type_name: &str) -> Result<&Type, Diagnostics> {
        self.actions.get(type_name).ok_or_else(|| {
            let mut known: Vec<&str> = self.actions.keys().map(String::as_str).collect();
            known.sort_unstable();
            Diagnostic::error(
                "Unknown action type",
                format!(
                    "This provider has no action type {type_name:?}. It has: {}.",
                    known.join(", ")
                ),
            )
            .into()
        })
    }

    /// An action's config, decoded with its schema.
    fn action_config(
        &self,
        type_name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Result<Value, Diagnostics> {
        let ty = self.action(type_name)?;
        wire::decode(config, ty).map_err(|e| wire::bad_input("action configuration", &e).into())
    }

    /// Identity data Terraform sent, decoded with the type's identity schema (ignored for a
    /// type without one).
    fn identity_in(
        &self,
        rt: &ResourceType,
        data: Option<&pb::ResourceIdentityData>,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let (_, ty) = rt.identity.as_ref()?;
        let dv = data?.identity_data.as_ref()?;
        match wire::decode(Some(dv), ty) {
            Ok(v) => Some(v),
            Err(e) => {
                diags.push(wire::bad_input("resource identity", &e));
                None
            }
        }
    }

    fn identity_out(
        &self,
        rt: &ResourceType,
        value: Option<Value>,
        diags: &mut Diagnostics,
    ) -> Option<pb::ResourceIdentityData> {
        let value = value?;
        let Some((_, ty)) = rt.identity.as_ref() else {
            diags.push(Diagnostic::error(
                "Provider produced an identity for a resource type without identity schema",
                "This is a bug in the provider; please report it.",
            ));
            return None;
        };
        match wire::encode(&value, ty) {
            Ok(dv) => Some(pb::ResourceIdentityData {
                identity_data: Some(dv),
            }),
            Err(e) => {
                diags.push(wire::bad_output("resource identity", &e));
                None
            }
        }
    }

    /// A state or plan the provider produced: write-only attributes nulled, then encoded.
    fn state_out(
        &self,
        rt: &ResourceType,
        mut value: Value,
        what: &str,
        diags: &mut Diagnostics,
    ) -> Option<pb::DynamicValue> {
        write_only::null_write_only(&rt.schema.block, &mut value);
        match wire::encode(&value, &rt.ty) {
            Ok(dv) => Some(dv),
            Err(e) => {
                diags.push(wire::bad_output(what, &e));
                None
            }
        }
    }
}

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    type InvokeActionStream = ActionEvents;

    // Actions (protocol 6.10).

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        self.handle_validate_action_config(request).await
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        self.handle_plan_action(request).await
    }

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<ActionEvents>, Status> {
        self.handle_invoke_action(request).await
    }

    async fn get_metadata(
        &self,
        request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        self.handle_get_metadata(request).await
    }

    async fn get_provider_schema(
        &self,
        request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        self.handle_get_provider_schema(request).await
    }

    async fn get_resource_identity_schemas(
        &self,
        request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        self.handle_get_resource_identity_schemas(request).await
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        self.handle_validate_provider_config(request).await
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        self.handle_configure_provider(request).await
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        self.handle_validate_resource_config(request).await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        self.handle_upgrade_resource_state(request).await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        self.handle_read_resource(request).await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        self.handle_plan_resource_change(request).await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        self.handle_apply_resource_change(request).await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        self.handle_import_resource_state(request).await
    }

    type ListResourceStream = ListStream;

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        self.handle_validate_list_resource_config(request).await
    }

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        self.handle_list_resource(request).await
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        self.handle_generate_resource_config(request).await
    }

    async fn stop_provider(
        &self,
        request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        self.handle_stop_provider(request).await
    }
}
