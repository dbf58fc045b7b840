//! Rolling restart of a Deployment, as `kubectl rollout restart` does it: a new value of the
//! pod template's `kubectl.kubernetes.io/restartedAt` annotation makes the controller roll
//! every pod through a new ReplicaSet under the Deployment's own strategy. Waiting for the
//! rollout is [`Cluster::wait_for_rollout`].

use super::client::Cluster;
use super::error::KubeError;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// The pod-template annotation kubectl uses for restarts; controllers and tools (and the
/// provider's drift check) treat `kubectl.kubernetes.io/` annotations as not the app's own.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// The merge patch that restarts a Deployment's pods, stamped with `at` (RFC 3339).
pub fn restart_patch(at: &str) -> serde_json::Value {
    json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}})
}

impl Cluster {
    /// Patch the Deployment's pod template so that its pods are replaced; `field_manager`
    /// owns the annotation (not the provider's manager, so an apply never removes it).
    /// Returns the Deployment as patched (its `metadata.generation` is the one to wait for).
    pub async fn restart_deployment(
        &self,
        namespace: &str,
        name: &str,
        at: &str,
        field_manager: &str,
    ) -> Result<Deployment, KubeError> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        let params = PatchParams {
            field_manager: Some(field_manager.to_string()),
            ..PatchParams::default()
        };
        // The same timestamp again is the same restart: safe to send twice.
        let patch = restart_patch(at);
        let patch = Patch::Merge(&patch);
        self.retry("restart", || api.patch(name, &params, &patch))
            .await
            .map_err(|e| {
                KubeError::from_kube(
                    e,
                    &self.host,
                    &format!("restart Deployment/{name} in namespace {namespace}"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patch_touches_only_the_template_annotation() {
        assert_eq!(
            restart_patch("2026-01-01T00:00:00Z"),
            json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}})
        );
    }
}
