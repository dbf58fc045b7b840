//! The tfplugin6.Provider gRPC service over a [`Provider`]: decodes each request with the
//! resource's schema, calls the provider, encodes the answer. Resource-independent protocol
//! rules live here: write-only attributes never leave in plan or state, values that don't fit
//! the schema become diagnostics (never panics or gRPC errors), unknown resource types are
//! reported by name.
//!
//! RPCs not in `proto/tfplugin6.proto` are answered UNIMPLEMENTED by tonic's router.

use super::diagnostics::{Diagnostic, Diagnostics};
use super::proto::tfplugin6 as pb;
use super::provider::{
    ActionProgress, ApplyRequest, ConfigureRequest, ImportRequest, InvokeActionRequest,
    ListRequest, ListResult, PlanActionRequest, PlanRequest, Provider, ReadRequest,
    UpgradeStateRequest, ValidateListRequest,
};
use super::schema::{AttrKind, Attribute, IdentitySchema, Schema};
use super::value::{Number, Type, Value};
use super::{wire, write_only};
use futures::{Stream, StreamExt};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
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

// List resources: results are typed by the managed resource type of the same name.

/// Encodes a list resource's results for one stream.
#[derive(Clone)]
struct ListEncoder {
    schema: Schema,
    ty: Type,
    identity_ty: Option<Type>,
}

impl ListEncoder {
    fn event(&self, r: ListResult) -> pb::list_resource::Event {
        let mut diags = r.diagnostics;
        let identity = r.identity.and_then(|v| {
            let Some(ty) = &self.identity_ty else {
                diags.push(Diagnostic::error(
                    "Provider listed a resource type without identity schema",
                    "This is a bug in the provider; please report it.",
                ));
                return None;
            };
            match wire::encode(&v, ty) {
                Ok(dv) => Some(pb::ResourceIdentityData {
                    identity_data: Some(dv),
                }),
                Err(e) => {
                    diags.push(wire::bad_output("resource identity", &e));
                    None
                }
            }
        });
        let resource_object = r.resource.and_then(|mut v| {
            write_only::null_write_only(&self.schema.block, &mut v);
            match wire::encode(&v, &self.ty) {
                Ok(dv) => Some(dv),
                Err(e) => {
                    diags.push(wire::bad_output("resource object", &e));
                    None
                }
            }
        });
        pb::list_resource::Event {
            identity,
            display_name: r.display_name,
            resource_object,
            diagnostic: wire::diagnostics(&diags),
        }
    }
}

/// A stream of one event that only carries diagnostics.
fn failed_list(diags: &Diagnostics) -> ListStream {
    let event = pb::list_resource::Event {
        diagnostic: wire::diagnostics(diags),
        ..Default::default()
    };
    Box::pin(futures::stream::iter([Ok(event)]))
}

type ListStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<pb::list_resource::Event, Status>> + Send + 'static>,
>;

/// A configuration value: attributes only the provider sets (computed, neither optional nor
/// required) and write-only ones made null at every depth, as a resource block needs them.
fn config_only(attrs: &[Attribute], value: &mut Value) {
    let Value::Object(fields) = value else {
        return;
    };
    for a in attrs {
        let Some(v) = fields.get_mut(&a.name) else {
            continue;
        };
        if a.write_only || (a.computed && !a.optional && !a.required) {
            *v = Value::Null;
        } else if let AttrKind::Nested(_, inner) = &a.kind {
            match v {
                Value::Object(_) => config_only(inner, v),
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                    items.iter_mut().for_each(|i| config_only(inner, i))
                }
                Value::Map(m) => m.values_mut().for_each(|i| config_only(inner, i)),
                _ => {}
            }
        }
    }
}

/// `include_resource` / `limit` of ValidateListResourceConfig: `None` when absent or unknown.
fn known<T>(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    get: impl Fn(&Value) -> Option<T>,
) -> Option<T> {
    wire::decode(dv, ty).ok().as_ref().and_then(get)
}

/// Decodes a request value or returns the response carrying the decoding error.
macro_rules! decode_or_return {
    ($dv:expr, $ty:expr, $what:expr, $diags:ident, $resp:expr) => {
        match wire::decode($dv, $ty) {
            Ok(v) => v,
            Err(e) => {
                $diags.push(wire::bad_input($what, &e));
                return Ok(Response::new($resp));
            }
        }
    };
}

/// InvokeAction's answer: progress events as the action sends them, then one completed event.
type ActionEvents = Pin<Box<dyn Stream<Item = Result<pb::invoke_action::Event, Status>> + Send>>;

fn completed(diags: &Diagnostics) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(pb::invoke_action::event::Type::Completed(
            pb::invoke_action::event::Completed {
                diagnostics: wire::diagnostics(diags),
            },
        )),
    }
}

fn progress(message: String) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(pb::invoke_action::event::Type::Progress(
            pb::invoke_action::event::Progress { message },
        )),
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
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ValidateActionConfig");
        let diags = match self.action_config(&req.type_name, req.config.as_ref()) {
            Ok(config) => {
                self.provider
                    .validate_action_config(&req.type_name, &config)
                    .await
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: wire::diagnostics(&diags),
        }))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.action_type, "PlanAction");
        let diags = match self.action_config(&req.action_type, req.config.as_ref()) {
            Ok(config) => {
                self.provider
                    .plan_action(PlanActionRequest {
                        type_name: req.action_type,
                        config,
                        capabilities: wire::capabilities(req.client_capabilities.as_ref()),
                    })
                    .await
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: wire::diagnostics(&diags),
            deferred: None,
        }))
    }

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<ActionEvents>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.action_type, "InvokeAction");
        let config = match self.action_config(&req.action_type, req.config.as_ref()) {
            Ok(c) => c,
            Err(d) => {
                let events = futures::stream::iter([Ok::<_, Status>(completed(&d))]);
                return Ok(Response::new(Box::pin(events)));
            }
        };
        let (progress_tx, progress_rx) = tokio::sync::mpsc::unbounded_channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let provider = self.provider.clone();
        let invoke = InvokeActionRequest {
            type_name: req.action_type,
            config,
            capabilities: wire::capabilities(req.client_capabilities.as_ref()),
        };
        // The action runs on its own task: a client that stops listening does not cut a
        // rollout short halfway (StopProvider does that).
        tokio::spawn(async move {
            let diags = provider
                .invoke_action(invoke, ActionProgress::new(progress_tx))
                .await;
            let _ = done_tx.send(diags);
        });
        // Progress ends when the action drops its sender, i.e. when it has finished.
        let events = tokio_stream::wrappers::UnboundedReceiverStream::new(progress_rx)
            .map(|m| Ok::<_, Status>(progress(m)))
            .chain(futures::stream::once(async move {
                let diags = done_rx.await.unwrap_or_else(|_| {
                    Diagnostic::error(
                        "Action stopped",
                        "The action ended without a result (the provider's task failed); this is a bug in the provider.",
                    )
                    .into()
                });
                Ok(completed(&diags))
            }));
        Ok(Response::new(Box::pin(events)))
    }

    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        tracing::debug!("GetMetadata");
        Ok(Response::new(self.metadata_response.clone()))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::debug!("GetProviderSchema");
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        tracing::debug!("GetResourceIdentitySchemas");
        Ok(Response::new(self.identity_response.clone()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        tracing::debug!("ValidateProviderConfig");
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let config = match wire::decode(req.config.as_ref(), &self.provider_ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("provider configuration", &e));
                Value::Null
            }
        };
        if !diags.has_errors() {
            diags.extend(self.provider.validate_provider_config(&config).await);
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: wire::diagnostics(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(terraform_version = %req.terraform_version, "ConfigureProvider");
        let mut diags = Diagnostics::new();
        match wire::decode(req.config.as_ref(), &self.provider_ty) {
            Ok(config) => {
                diags.extend(
                    self.provider
                        .configure(ConfigureRequest {
                            terraform_version: req.terraform_version,
                            config,
                            capabilities: wire::capabilities(req.client_capabilities.as_ref()),
                        })
                        .await,
                );
            }
            Err(e) => diags.push(wire::bad_input("provider configuration", &e)),
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: wire::diagnostics(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ValidateResourceConfig");
        let mut diags = Diagnostics::new();
        let respond = |diags: &Diagnostics| {
            Ok(Response::new(pb::validate_resource_config::Response {
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return respond(&d),
        };
        let config = match wire::decode(req.config.as_ref(), &rt.ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("resource configuration", &e));
                return respond(&diags);
            }
        };
        let caps = wire::capabilities(req.client_capabilities.as_ref());
        if !caps.write_only_attributes_allowed {
            // An older Terraform would store these values in state: refuse them.
            for path in write_only::set_write_only_paths(&rt.schema.block, &config) {
                diags.push(
                    Diagnostic::error(
                        "Write-only attribute not supported by this Terraform",
                        format!(
                            "{path} is write-only: its value is never stored in the plan or \
                             state. This Terraform version does not support write-only \
                             attributes (Terraform 1.11 or later does). Remove {path}, or \
                             upgrade Terraform."
                        ),
                    )
                    .at(path.clone()),
                );
            }
        }
        diags.extend(
            self.provider
                .validate_resource_config(&req.type_name, &config)
                .await,
        );
        respond(&diags)
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, version = req.version, "UpgradeResourceState");
        let mut diags = Diagnostics::new();
        let respond = |diags: &Diagnostics, upgraded_state| {
            Ok(Response::new(pb::upgrade_resource_state::Response {
                upgraded_state,
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return respond(&d, None),
        };
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            if !raw.flatmap.is_empty() {
                diags.error(
                    "Unsupported resource state format",
                    "The stored state uses the flatmap format of Terraform 0.11 and earlier, \
                     which this provider never wrote. Remove the resource from the state and \
                     import it again.",
                );
            }
            // No stored state at all: nothing to upgrade.
            return respond(&diags, None);
        }
        let raw_state: serde_json::Value = match serde_json::from_slice(&raw.json) {
            Ok(j) => j,
            Err(e) => {
                diags.error(
                    "Unreadable resource state",
                    format!("The stored state is not valid JSON: {e}."),
                );
                return respond(&diags, None);
            }
        };
        let resp = self
            .provider
            .upgrade_resource_state(UpgradeStateRequest {
                type_name: req.type_name.clone(),
                version: req.version,
                raw_state,
            })
            .await;
        diags.extend(resp.diagnostics);
        let upgraded = if diags.has_errors() {
            None
        } else {
            self.state_out(rt, resp.upgraded_state, "upgraded state", &mut diags)
        };
        respond(&diags, upgraded)
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ReadResource");
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => {
                return Ok(Response::new(pb::read_resource::Response {
                    diagnostics: wire::diagnostics(&d),
                    ..Default::default()
                }));
            }
        };
        let mut diags = Diagnostics::new();
        let current_state = match wire::decode(req.current_state.as_ref(), &rt.ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("current state", &e));
                return Ok(Response::new(pb::read_resource::Response {
                    diagnostics: wire::diagnostics(&diags),
                    ..Default::default()
                }));
            }
        };
        let current_identity = self.identity_in(rt, req.current_identity.as_ref(), &mut diags);
        let resp = self
            .provider
            .read_resource(ReadRequest {
                type_name: req.type_name,
                current_state,
                private: req.private,
                current_identity,
                capabilities: wire::capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        diags.extend(resp.diagnostics);
        let new_state = self.state_out(rt, resp.new_state, "state", &mut diags);
        let new_identity = self.identity_out(rt, resp.new_identity, &mut diags);
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: wire::diagnostics(&diags),
            private: resp.private,
            deferred: None,
            new_identity,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "PlanResourceChange");
        let mut diags = Diagnostics::new();
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => {
                return Ok(Response::new(pb::plan_resource_change::Response {
                    diagnostics: wire::diagnostics(&d),
                    ..Default::default()
                }));
            }
        };
        macro_rules! failed {
            () => {
                pb::plan_resource_change::Response {
                    diagnostics: wire::diagnostics(&diags),
                    ..Default::default()
                }
            };
        }
        let prior_state = decode_or_return!(
            req.prior_state.as_ref(),
            &rt.ty,
            "prior state",
            diags,
            failed!()
        );
        let proposed_new_state = decode_or_return!(
            req.proposed_new_state.as_ref(),
            &rt.ty,
            "proposed new state",
            diags,
            failed!()
        );
        let config = decode_or_return!(
            req.config.as_ref(),
            &rt.ty,
            "resource configuration",
            diags,
            failed!()
        );
        let prior_identity = self.identity_in(rt, req.prior_identity.as_ref(), &mut diags);
        let resp = self
            .provider
            .plan_resource_change(PlanRequest {
                type_name: req.type_name,
                prior_state,
                proposed_new_state,
                config,
                prior_private: req.prior_private,
                prior_identity,
                capabilities: wire::capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        diags.extend(resp.diagnostics);
        let planned_state = self.state_out(rt, resp.planned_state, "planned state", &mut diags);
        let planned_identity = self.identity_out(rt, resp.planned_identity, &mut diags);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace: resp
                .requires_replace
                .iter()
                .map(wire::attribute_path)
                .collect(),
            planned_private: resp.planned_private,
            diagnostics: wire::diagnostics(&diags),
            legacy_type_system: false,
            deferred: None,
            planned_identity,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ApplyResourceChange");
        let mut diags = Diagnostics::new();
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    diagnostics: wire::diagnostics(&d),
                    ..Default::default()
                }));
            }
        };
        macro_rules! failed {
            () => {
                pb::apply_resource_change::Response {
                    diagnostics: wire::diagnostics(&diags),
                    ..Default::default()
                }
            };
        }
        let prior_state = decode_or_return!(
            req.prior_state.as_ref(),
            &rt.ty,
            "prior state",
            diags,
            failed!()
        );
        let planned_state = decode_or_return!(
            req.planned_state.as_ref(),
            &rt.ty,
            "planned state",
            diags,
            failed!()
        );
        let config = decode_or_return!(
            req.config.as_ref(),
            &rt.ty,
            "resource configuration",
            diags,
            failed!()
        );
        let planned_identity = self.identity_in(rt, req.planned_identity.as_ref(), &mut diags);
        let resp = self
            .provider
            .apply_resource_change(ApplyRequest {
                type_name: req.type_name,
                prior_state,
                planned_state,
                config,
                planned_private: req.planned_private,
                planned_identity,
            })
            .await;
        diags.extend(resp.diagnostics);
        let new_state = self.state_out(rt, resp.new_state, "new state", &mut diags);
        let new_identity = self.identity_out(rt, resp.new_identity, &mut diags);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: resp.private,
            diagnostics: wire::diagnostics(&diags),
            legacy_type_system: false,
            new_identity,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ImportResourceState");
        let mut diags = Diagnostics::new();
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => {
                return Ok(Response::new(pb::import_resource_state::Response {
                    diagnostics: wire::diagnostics(&d),
                    ..Default::default()
                }));
            }
        };
        let identity = self.identity_in(rt, req.identity.as_ref(), &mut diags);
        if diags.has_errors() {
            return Ok(Response::new(pb::import_resource_state::Response {
                diagnostics: wire::diagnostics(&diags),
                ..Default::default()
            }));
        }
        let resp = self
            .provider
            .import_resource_state(ImportRequest {
                type_name: req.type_name.clone(),
                id: req.id,
                identity,
                capabilities: wire::capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        diags.extend(resp.diagnostics);
        let mut imported_resources = Vec::with_capacity(resp.imported.len());
        for imp in resp.imported {
            let type_name = if imp.type_name.is_empty() {
                req.type_name.clone()
            } else {
                imp.type_name
            };
            let irt = match self.resource(&type_name) {
                Ok(r) => r,
                Err(d) => {
                    diags.extend(d);
                    continue;
                }
            };
            let state = self.state_out(irt, imp.state, "imported state", &mut diags);
            let identity = self.identity_out(irt, imp.identity, &mut diags);
            imported_resources.push(pb::import_resource_state::ImportedResource {
                type_name,
                state,
                private: imp.private,
                identity,
            });
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: wire::diagnostics(&diags),
            deferred: None,
        }))
    }

    type ListResourceStream = ListStream;

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ValidateListResourceConfig");
        let respond = |diags: &Diagnostics| {
            Ok(Response::new(pb::validate_list_resource_config::Response {
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let ty = match self.list_type(&req.type_name) {
            Ok(ty) => ty,
            Err(d) => return respond(&d),
        };
        let config = match wire::decode(req.config.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => return respond(&wire::bad_input("list configuration", &e).into()),
        };
        let include_resource = known(
            req.include_resource_object.as_ref(),
            &Type::Bool,
            |v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            },
        );
        let limit = known(req.limit.as_ref(), &Type::Number, |v| match v {
            Value::Number(Number::Int(i)) => Some(*i),
            Value::Number(Number::Float(f)) => Some(*f as i64),
            _ => None,
        });
        let diags = self
            .provider
            .validate_list_resource_config(ValidateListRequest {
                type_name: req.type_name,
                config,
                include_resource,
                limit,
            })
            .await;
        respond(&diags)
    }

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, limit = req.limit, include = req.include_resource_object, "ListResource");
        let ty = match self.list_type(&req.type_name) {
            Ok(ty) => ty,
            Err(d) => return Ok(Response::new(failed_list(&d))),
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return Ok(Response::new(failed_list(&d))),
        };
        let config = match wire::decode(req.config.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => {
                let d = wire::bad_input("list configuration", &e).into();
                return Ok(Response::new(failed_list(&d)));
            }
        };
        let encoder = ListEncoder {
            schema: rt.schema.clone(),
            ty: rt.ty.clone(),
            identity_ty: rt.identity.as_ref().map(|(_, t)| t.clone()),
        };
        let limit = req.limit;
        let (results_tx, mut results) = mpsc::channel::<ListResult>(16);
        let (events_tx, events) = mpsc::channel(16);
        let provider = self.provider.clone();
        tokio::spawn(async move {
            provider
                .list_resource(
                    ListRequest {
                        type_name: req.type_name,
                        config,
                        include_resource: req.include_resource_object,
                        limit,
                    },
                    results_tx,
                )
                .await;
        });
        // Encode results as they come; after `limit` results the channels close, which
        // tells the lister to stop.
        tokio::spawn(async move {
            let mut sent = 0;
            while let Some(r) = results.recv().await {
                let counts = r.identity.is_some();
                if events_tx.send(Ok(encoder.event(r))).await.is_err() {
                    break;
                }
                if counts {
                    sent += 1;
                    if limit > 0 && sent >= limit {
                        break;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(events),
        )))
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "GenerateResourceConfig");
        let mut diags = Diagnostics::new();
        let respond = |diags: &Diagnostics, config| {
            Ok(Response::new(pb::generate_resource_config::Response {
                config,
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return respond(&d, None),
        };
        let state = match wire::decode(req.state.as_ref(), &rt.ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("resource state", &e));
                return respond(&diags, None);
            }
        };
        let resp = self
            .provider
            .generate_resource_config(&req.type_name, state)
            .await;
        diags.extend(resp.diagnostics);
        let mut config = resp.config;
        config_only(&rt.schema.block.attributes, &mut config);
        let config = match wire::encode(&config, &rt.ty) {
            Ok(dv) => Some(dv),
            Err(e) => {
                diags.push(wire::bad_output("configuration", &e));
                None
            }
        };
        respond(&diags, config)
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::debug!("StopProvider");
        self.provider.stop().await;
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
