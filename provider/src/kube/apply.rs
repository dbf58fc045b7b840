//! Server-side apply of any object with the configured field manager, and the scale
//! subresource.

use super::client::Cluster;
use super::error::KubeError;
use super::object::ObjectRef;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value as Json;
use std::time::Duration;
use tokio::sync::watch;

impl Cluster {
    pub(crate) fn api(&self, r: &ObjectRef) -> Api<DynamicObject> {
        self.api_in(&r.ty, r.namespace.as_deref())
    }

    pub(crate) fn api_in(
        &self,
        ty: &super::object::ResourceType,
        namespace: Option<&str>,
    ) -> Api<DynamicObject> {
        let ar = ty.api_resource();
        match namespace {
            Some(ns) if ty.namespaced => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        }
    }

    pub(crate) fn err(&self, e: kube::Error, action: String) -> KubeError {
        KubeError::from_kube(e, &self.host, &action)
    }

    /// Server-side apply of one object.
    pub async fn apply(&self, r: &ObjectRef, object: &Json) -> Result<(), KubeError> {
        let fm = &self.settings.field_manager;
        let mut params = PatchParams::apply(&fm.name);
        params.force = fm.force_conflicts;
        tracing::debug!(object = %r.describe(), "server-side apply");
        let api = self.api(r);
        let patch = Patch::Apply(object);
        // Server-side apply is idempotent: sending it again after a lost answer is safe.
        self.retry("apply", || api.patch(&r.name, &params, &patch))
            .await
            .map_err(|e| self.err(e, format!("apply {}", r.describe())))?;
        Ok(())
    }

    /// Replace an object's `metadata.managedFields` (who owns which field), provided it is
    /// still at `resource_version`; nothing else of the object changes. A following
    /// server-side apply no longer sending a field its manager now owns removes it.
    pub async fn set_managed_fields(
        &self,
        r: &ObjectRef,
        resource_version: &str,
        managed_fields: &Json,
    ) -> Result<(), KubeError> {
        let params = PatchParams {
            field_manager: Some(self.settings.field_manager.name.clone()),
            ..PatchParams::default()
        };
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": resource_version, "managedFields": managed_fields}
        });
        tracing::debug!(object = %r.describe(), "taking over fields other managers added");
        let api = self.api(r);
        let patch = Patch::Merge(&patch);
        // Guarded by resourceVersion: a repeat after a lost answer fails with 409, not twice.
        self.retry("take over fields", || api.patch(&r.name, &params, &patch))
            .await
            .map_err(|e| self.err(e, format!("take over fields of {}", r.describe())))?;
        Ok(())
    }

    /// Server-side apply of an object whose type may not be served yet (its CRD is being
    /// installed, e.g. by an add-on in the same run): retry while the API answers 404, until
    /// `timeout`, or until `stop` fires.
    pub async fn apply_when_served(
        &self,
        r: &ObjectRef,
        object: &Json,
        timeout: Duration,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), KubeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut logged = false;
        loop {
            match self.apply(r, object).await {
                Err(KubeError::Api {
                    code: 404, message, ..
                }) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(KubeError::CrdNotServed {
                            object: r.describe(),
                            crd: r.ty.resource_name(),
                            host: self.host.clone(),
                            waited: timeout,
                            message,
                        });
                    }
                    if !logged {
                        tracing::info!(
                            crd = %r.ty.resource_name(),
                            "waiting for the CustomResourceDefinition to be installed"
                        );
                        logged = true;
                    }
                }
                other => return other,
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = stop.changed() => return Err(KubeError::Cancelled),
            }
        }
    }

    /// Set a Deployment's replica count through the scale subresource, without making the
    /// field manager the owner of `spec.replicas` (an autoscaler may own it).
    pub async fn scale_deployment(
        &self,
        namespace: &str,
        name: &str,
        replicas: i64,
    ) -> Result<(), KubeError> {
        let api: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(self.client.clone(), namespace);
        let patch = serde_json::json!({ "spec": { "replicas": replicas } });
        let (params, patch) = (PatchParams::default(), Patch::Merge(&patch));
        self.retry("scale", || api.patch_scale(name, &params, &patch))
            .await
            .map_err(|e| self.err(e, format!("scale Deployment/{namespace}/{name}")))?;
        Ok(())
    }
}
