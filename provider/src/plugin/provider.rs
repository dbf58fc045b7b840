//! The contract between the protocol server (this module) and the provider's resources.
//!
//! The gRPC service decodes every request into these typed structs (values already decoded
//! with the resource's schema), calls the [`Provider`], and encodes the answer. Nothing here
//! knows what a resource does.

use super::diagnostics::Diagnostics;
use super::schema::{IdentitySchema, Schema};
use super::value::Value;

/// Everything GetProviderSchema / GetMetadata / GetResourceIdentitySchemas report.
#[derive(Clone, Debug)]
pub struct ProviderSchemas {
    pub provider: Schema,
    /// Resource type name -> schema.
    pub resources: Vec<(String, Schema)>,
    /// Resource type name -> identity schema.
    pub identities: Vec<(String, IdentitySchema)>,
    /// List resource type name (the managed resource type it lists) -> schema of its
    /// `config` block.
    pub list_resources: Vec<(String, Schema)>,
    /// Action type name -> schema of its `config` block (protocol 6.10).
    pub actions: Vec<(String, Schema)>,
}

/// What Terraform says it can do (ClientCapabilities).
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientCapabilities {
    pub deferral_allowed: bool,
    pub write_only_attributes_allowed: bool,
}

pub struct ConfigureRequest {
    pub terraform_version: String,
    pub config: Value,
    pub capabilities: ClientCapabilities,
}

pub struct ReadRequest {
    pub type_name: String,
    pub current_state: Value,
    pub private: Vec<u8>,
    pub current_identity: Option<Value>,
    pub capabilities: ClientCapabilities,
}

#[derive(Default)]
pub struct ReadResponse {
    /// `Value::Null` tells Terraform the object is gone.
    pub new_state: Value,
    pub private: Vec<u8>,
    pub new_identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

pub struct PlanRequest {
    pub type_name: String,
    pub prior_state: Value,
    pub proposed_new_state: Value,
    pub config: Value,
    pub prior_private: Vec<u8>,
    pub prior_identity: Option<Value>,
    pub capabilities: ClientCapabilities,
}

#[derive(Default)]
pub struct PlanResponse {
    pub planned_state: Value,
    /// Attribute paths whose change forces replacement.
    pub requires_replace: Vec<super::value::AttrPath>,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

pub struct ApplyRequest {
    pub type_name: String,
    pub prior_state: Value,
    pub planned_state: Value,
    /// Config, including write-only attributes (the only place they are visible).
    pub config: Value,
    pub planned_private: Vec<u8>,
    pub planned_identity: Option<Value>,
}

#[derive(Default)]
pub struct ApplyResponse {
    pub new_state: Value,
    pub private: Vec<u8>,
    pub new_identity: Option<Value>,
    pub diagnostics: Diagnostics,
}

pub struct ImportRequest {
    pub type_name: String,
    /// `terraform import ADDR ID` / `import { id = ... }`; empty when importing by identity.
    pub id: String,
    pub identity: Option<Value>,
    pub capabilities: ClientCapabilities,
}

pub struct ImportedResource {
    pub type_name: String,
    pub state: Value,
    pub private: Vec<u8>,
    pub identity: Option<Value>,
}

#[derive(Default)]
pub struct ImportResponse {
    pub imported: Vec<ImportedResource>,
    pub diagnostics: Diagnostics,
}

pub struct UpgradeStateRequest {
    pub type_name: String,
    pub version: i64,
    /// The stored state as JSON (already parsed).
    pub raw_state: serde_json::Value,
}

#[derive(Default)]
pub struct UpgradeStateResponse {
    pub upgraded_state: Value,
    pub diagnostics: Diagnostics,
}

// List resources (`terraform query`, Terraform 1.14+).

/// ValidateListResourceConfig: `include_resource` and `limit` are `None` while unknown.
pub struct ValidateListRequest {
    pub type_name: String,
    pub config: Value,
    pub include_resource: Option<bool>,
    pub limit: Option<i64>,
}

/// ListResource: the list block's `config`, whether to send whole objects, and how many
/// results Terraform reads at most.
#[derive(Clone, Debug)]
pub struct ListRequest {
    pub type_name: String,
    pub config: Value,
    pub include_resource: bool,
    pub limit: i64,
}

/// One streamed result, or (identity `None`) only diagnostics.
#[derive(Debug, Default)]
pub struct ListResult {
    /// Typed by the identity schema of the managed resource type of the same name.
    pub identity: Option<Value>,
    pub display_name: String,
    /// The full resource object (only when asked for), typed by the resource schema.
    pub resource: Option<Value>,
    pub diagnostics: Diagnostics,
}

impl ListResult {
    pub fn failed(diagnostics: Diagnostics) -> Self {
        ListResult {
            diagnostics,
            ..ListResult::default()
        }
    }
}

/// Where a list resource sends its results as it finds them. A send fails once Terraform
/// stops reading (limit reached, or cancelled): the lister should stop then.
pub type ListSink = tokio::sync::mpsc::Sender<ListResult>;

#[derive(Default)]
pub struct GenerateConfigResponse {
    pub config: Value,
    pub diagnostics: Diagnostics,
}

fn no_list_resources(type_name: &str) -> Diagnostics {
    super::diagnostics::Diagnostic::error(
        "Unknown list resource type",
        format!("This provider has no list resource {type_name:?}."),
    )
    .into()
}

// Actions (protocol 6.10): `action` blocks, run by `terraform apply -invoke` or an
// `action_trigger`. Clients before Terraform 1.14 never call these.

pub struct PlanActionRequest {
    pub type_name: String,
    /// The `config` block; may hold unknown values.
    pub config: Value,
    pub capabilities: ClientCapabilities,
}

pub struct InvokeActionRequest {
    pub type_name: String,
    /// The `config` block, wholly known.
    pub config: Value,
    pub capabilities: ClientCapabilities,
}

/// Where a running action reports progress ("3/4 pods updated"); Terraform prints each
/// message as it arrives. Sending never fails the action: a client that went away just
/// stops listening.
#[derive(Clone)]
pub struct ActionProgress(tokio::sync::mpsc::UnboundedSender<String>);

impl ActionProgress {
    pub fn new(tx: tokio::sync::mpsc::UnboundedSender<String>) -> Self {
        ActionProgress(tx)
    }
    /// A sink that drops every message (unit tests, callers without a client).
    pub fn discard() -> Self {
        ActionProgress(tokio::sync::mpsc::unbounded_channel().0)
    }
    pub fn send(&self, message: impl Into<String>) {
        let _ = self.0.send(message.into());
    }
}

fn no_actions(type_name: &str) -> Diagnostics {
    super::diagnostics::Diagnostic::error(
        "Unknown action type",
        format!("This provider has no action type {type_name:?}."),
    )
    .into()
}

/// A Terraform provider. Implemented by `resources::JkeProvider`; served by `plugin::serve`.
#[tonic::async_trait]
pub trait Provider: Send + Sync + 'static {
    fn schemas(&self) -> &ProviderSchemas;
    async fn validate_provider_config(&self, config: &Value) -> Diagnostics;
    async fn configure(&self, req: ConfigureRequest) -> Diagnostics;
    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics;
    /// UpgradeResourceState. The default reads the stored JSON with the current schema,
    /// dropping attributes the schema no longer has (see [`super::upgrade::read_stored_state`]);
    /// override it when a schema version needs a real migration.
    async fn upgrade_resource_state(&self, req: UpgradeStateRequest) -> UpgradeStateResponse {
        super::upgrade::read_stored_state(self.schemas(), &req)
    }
    async fn read_resource(&self, req: ReadRequest) -> ReadResponse;
    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse;
    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse;
    async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse;
    /// StopProvider: cancel in-flight work (e.g. rollout waits) promptly.
    async fn stop(&self);

    // List resources. The defaults serve a provider without any.

    async fn validate_list_resource_config(&self, req: ValidateListRequest) -> Diagnostics {
        no_list_resources(&req.type_name)
    }
    /// Send results to `sink` as they are found; return when done (or when a send fails).
    async fn list_resource(&self, req: ListRequest, sink: ListSink) {
        let _ = sink
            .send(ListResult::failed(no_list_resources(&req.type_name)))
            .await;
    }
    /// GenerateResourceConfig: the configuration a person would write for `state`.
    /// The default keeps every non-computed attribute as it is in the state.
    async fn generate_resource_config(
        &self,
        type_name: &str,
        state: Value,
    ) -> GenerateConfigResponse {
        let _ = type_name;
        GenerateConfigResponse {
            config: state,
            diagnostics: Diagnostics::new(),
        }
    }
    // Actions: the defaults serve a provider without any.
    async fn validate_action_config(&self, type_name: &str, _config: &Value) -> Diagnostics {
        no_actions(type_name)
    }
    /// Checks before the run (config, and what can be checked without side effects).
    async fn plan_action(&self, req: PlanActionRequest) -> Diagnostics {
        no_actions(&req.type_name)
    }
    /// Runs the action, reporting progress as it goes; the diagnostics end it.
    async fn invoke_action(
        &self,
        req: InvokeActionRequest,
        _progress: ActionProgress,
    ) -> Diagnostics {
        no_actions(&req.type_name)
    }
}
