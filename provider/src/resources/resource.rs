//! The shape every resource has. The provider dispatches each Terraform call by type name to
//! one of these, connects to the cluster the way the resource asks (`guard`), and hands it a
//! [`Connected`] context; the resource maps the call onto its domain model and the cluster.

use super::provider_config::ProviderConfig;
use crate::kube::Cluster;
use crate::plugin::{
    ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, IdentitySchema, ImportRequest,
    ImportResponse, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Schema, Value,
};
use std::sync::Arc;
use tokio::sync::watch;

/// How a resource may reach the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Only after the cluster's marker (or EKS tag) names the provider's environment.
    Environment,
    /// Without the provider's guard: the resource writes the marker the guard reads, and
    /// checks it itself before anything else.
    OwnMarker,
}

/// A connected cluster and the provider's settings, for one call.
pub struct Connected<'a> {
    pub cluster: &'a Cluster,
    /// The EKS cluster's `jke/environment` tag (only known to [`Guard::OwnMarker`]
    /// resources on EKS; guarded ones were already checked against it).
    pub eks_tag: Option<&'a str>,
    pub config: Arc<ProviderConfig>,
}

#[tonic::async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// The identity schema, for resources that have one.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }
    fn guard(&self) -> Guard {
        Guard::Environment
    }
    /// Problems with a configuration, with nothing but the provider's settings.
    fn validate(&self, config: &Value, provider: &ProviderConfig) -> Diagnostics;
    /// The planned state; never needs a cluster.
    fn plan(&self, req: &PlanRequest, provider: &ProviderConfig) -> PlanResponse;
    async fn read(&self, cx: &Connected<'_>, req: &ReadRequest) -> ReadResponse;
    /// Create, update or (planned state null) destroy.
    async fn apply(
        &self,
        cx: &Connected<'_>,
        req: &ApplyRequest,
        stop: watch::Receiver<bool>,
    ) -> ApplyResponse;
    /// Check the import ID or identity before connecting, so a typo needs no cluster.
    fn import_target(&self, req: &ImportRequest) -> Result<(), Diagnostic>;
    async fn import(&self, cx: &Connected<'_>, req: &ImportRequest) -> ImportResponse;
    /// GenerateResourceConfig: the configuration a person would write for this state (the
    /// protocol server nulls computed-only attributes). The default writes the state as is.
    fn generate_config(
        &self,
        state: &Value,
        provider: &ProviderConfig,
    ) -> Result<Value, Diagnostics> {
        let _ = provider;
        Ok(state.clone())
    }
}
