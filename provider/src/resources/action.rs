//! The shape every action has (Terraform 1.14+ `action` blocks), beside [`super::Resource`]:
//! the provider dispatches by type name, connects the way the action asks, and hands it a
//! [`Connected`] context. An action checks its config at plan and does its work at invoke,
//! reporting progress as it goes.

use super::provider_config::ProviderConfig;
use super::resource::{Connected, Guard};
use crate::plugin::{ActionProgress, Diagnostics, Schema, Value};
use tokio::sync::watch;

/// What an invocation gets: the cluster (when the action asked for one), the provider's
/// settings, where to report progress, and the provider's stop signal.
pub struct Invocation<'a> {
    pub cluster: Option<Connected<'a>>,
    pub provider: &'a ProviderConfig,
    pub progress: ActionProgress,
    pub stop: watch::Receiver<bool>,
}

#[tonic::async_trait]
pub trait Action: Send + Sync {
    fn type_name(&self) -> &'static str;
    /// The schema of the action's `config` block.
    fn schema(&self) -> Schema;
    /// How it reaches the cluster; `None` for an action that needs no cluster.
    fn guard(&self) -> Option<Guard> {
        Some(Guard::Environment)
    }
    /// Problems with a config (values may be unknown: those are checked at invoke), with
    /// nothing but the provider's settings. Run at validate and again at plan.
    fn validate(&self, config: &Value, provider: &ProviderConfig) -> Diagnostics;
    /// Checks at plan, when the provider is configured: by default the same as validate.
    fn plan(&self, config: &Value, provider: &ProviderConfig) -> Diagnostics {
        self.validate(config, provider)
    }
    /// Do it. `config` is wholly known.
    async fn invoke(&self, run: Invocation<'_>, config: &Value) -> Diagnostics;
}
