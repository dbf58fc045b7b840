//! Server-side apply, read, prune and delete of an app's objects.

use super::client::Cluster;
use super::error::KubeError;
use crate::app::bundle::{Kind, Manifest, app_label_selector};
use futures::future::join_all;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy,
};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value as Json;
use std::time::Duration;

fn api_resource(kind: Kind) -> ApiResource {
    let (group, version) = match kind.api_version().split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", kind.api_version()),
    };
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind.name()),
        kind.plural(),
    )
}

/// Where an app's object lives: kind, namespace (for namespaced kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn of(m: &Manifest) -> ObjectRef {
        ObjectRef {
            kind: m.kind,
            namespace: m.namespace.clone(),
            name: m.name.clone(),
        }
    }
    pub fn key(&self) -> String {
        format!("{}/{}", self.kind.name(), self.name)
    }
}

impl Cluster {
    fn api(&self, kind: Kind, namespace: Option<&str>) -> Api<DynamicObject> {
        let ar = api_resource(kind);
        match namespace {
            Some(ns) if kind.namespaced() => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        }
    }

    fn err(&self, e: kube::Error, action: String) -> KubeError {
        KubeError::from_kube(e, &self.host, &action)
    }

    /// Server-side apply of each manifest, in order (namespace, service account and secret
    /// before the deployment that uses them).
    pub async fn apply(&self, manifests: &[Manifest]) -> Result<(), KubeError> {
        let fm = &self.settings.field_manager;
        let mut params = PatchParams::apply(&fm.name);
        params.force = fm.force_conflicts;
        for m in manifests {
            tracing::debug!(object = %m.key(), namespace = ?m.namespace, "server-side apply");
            self.api(m.kind, m.namespace.as_deref())
                .patch(&m.name, &params, &Patch::Apply(&m.object))
                .await
                .map_err(|e| {
                    self.err(
                        e,
                        format!(
                            "apply {} in namespace {}",
                            m.key(),
                            m.namespace.as_deref().unwrap_or("-")
                        ),
                    )
                })?;
        }
        Ok(())
    }

    /// GET one object; `None` when it does not exist.
    pub async fn get(&self, r: &ObjectRef) -> Result<Option<Json>, KubeError> {
        let got = self
            .api(r.kind, r.namespace.as_deref())
            .get_opt(&r.name)
            .await
            .map_err(|e| {
                self.err(
                    e,
                    format!(
                        "get {} in namespace {}",
                        r.key(),
                        r.namespace.as_deref().unwrap_or("-")
                    ),
                )
            })?;
        Ok(got.and_then(|o| serde_json::to_value(o).ok()))
    }

    /// GET several objects concurrently (one request each), in the given order.
    pub async fn get_all(&self, refs: &[ObjectRef]) -> Result<Vec<Option<Json>>, KubeError> {
        join_all(refs.iter().map(|r| self.get(r)))
            .await
            .into_iter()
            .collect()
    }

    /// Objects of the app (by its labels) in `namespace`, of every kind it may have.
    pub async fn list_app(&self, namespace: &str, app: &str) -> Result<Vec<ObjectRef>, KubeError> {
        let lp = ListParams::default().labels(&app_label_selector(app));
        let kinds: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.namespaced()).collect();
        let lists = join_all(kinds.iter().map(|k| {
            let lp = lp.clone();
            async move {
                let list = self
                    .api(*k, Some(namespace))
                    .list_metadata(&lp)
                    .await
                    .map_err(|e| {
                        self.err(e, format!("list {} in namespace {namespace}", k.plural()))
                    })?;
                Ok::<_, KubeError>(
                    list.items
                        .into_iter()
                        .filter_map(|o| o.metadata.name)
                        .map(|name| ObjectRef {
                            kind: *k,
                            namespace: Some(namespace.to_string()),
                            name,
                        })
                        .collect::<Vec<_>>(),
                )
            }
        }))
        .await;
        let mut out = Vec::new();
        for l in lists {
            out.extend(l?);
        }
        Ok(out)
    }

    /// Delete the app's objects that `keep` no longer has (found by the app's labels, so
    /// leftovers of an interrupted apply go too). Returns what was deleted.
    pub async fn prune(
        &self,
        namespace: &str,
        app: &str,
        keep: &[Manifest],
    ) -> Result<Vec<String>, KubeError> {
        let keep: Vec<ObjectRef> = keep.iter().map(ObjectRef::of).collect();
        let mut deleted = Vec::new();
        for r in self.list_app(namespace, app).await? {
            if !keep.contains(&r) {
                tracing::info!(object = %r.key(), "pruning object the app no longer needs");
                self.delete(&r).await?;
                deleted.push(r.key());
            }
        }
        Ok(deleted)
    }

    /// Delete with foreground propagation (dependents such as ReplicaSets and pods first).
    /// An object that is already gone is fine.
    pub async fn delete(&self, r: &ObjectRef) -> Result<(), KubeError> {
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..DeleteParams::default()
        };
        match self
            .api(r.kind, r.namespace.as_deref())
            .delete(&r.name, &dp)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(self.err(
                e,
                format!(
                    "delete {} in namespace {}",
                    r.key(),
                    r.namespace.as_deref().unwrap_or("-")
                ),
            )),
        }
    }

    /// Delete all `refs` and wait until every one is gone (or `timeout` passes).
    pub async fn delete_and_wait(
        &self,
        refs: &[ObjectRef],
        timeout: Duration,
    ) -> Result<(), KubeError> {
        // Reverse apply order: the ingress and service stop traffic before the pods go.
        for r in refs.iter().rev() {
            self.delete(r).await?;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left: Vec<String> = self
                .get_all(refs)
                .await?
                .iter()
                .zip(refs)
                .filter(|(o, _)| o.is_some())
                .map(|(_, r)| r.key())
                .collect();
            if left.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(KubeError::Rollout(format!(
                    "objects still being deleted after {}s: {}",
                    timeout.as_secs(),
                    left.join(", ")
                )));
            }
            tracing::debug!(waiting_for = ?left, "waiting for deletion");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Set a Deployment's replica count through the scale subresource. Used once at creation
    /// so an autoscaled app starts with its minimum instead of 1, without making `jke` the
    /// owner of `spec.replicas` (the HPA owns it).
    pub async fn scale_deployment(
        &self,
        namespace: &str,
        name: &str,
        replicas: i64,
    ) -> Result<(), KubeError> {
        let api: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(self.client.clone(), namespace);
        let patch = serde_json::json!({ "spec": { "replicas": replicas } });
        api.patch_scale(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| {
                self.err(
                    e,
                    format!("scale Deployment/{name} in namespace {namespace}"),
                )
            })?;
        Ok(())
    }
}
