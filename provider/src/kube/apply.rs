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

// ---------------------------------------------------------------------------------------------
// Objects of any type (jke_cluster: namespaces, LimitRanges, ResourceQuotas, the marker
// ConfigMap, cert-manager ClusterIssuers), addressed by apiVersion/kind/plural.

/// The type of an object, as much as the API needs to find it (no discovery round trip).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceType {
    pub api_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl ResourceType {
    pub fn new(api_version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        ResourceType {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            namespaced,
        }
    }

    fn group_version(&self) -> (&str, &str) {
        match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version.as_str()),
        }
    }

    fn api_resource(&self) -> ApiResource {
        let (group, version) = self.group_version();
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, &self.kind),
            &self.plural,
        )
    }

    /// `clusterissuers.cert-manager.io`, or `namespaces` for the core group: the name of the
    /// CRD that serves a custom type.
    pub fn resource_name(&self) -> String {
        match self.group_version().0 {
            "" => self.plural.clone(),
            g => format!("{}.{g}", self.plural),
        }
    }
}

/// One object of any type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GenericRef {
    pub ty: ResourceType,
    pub namespace: Option<String>,
    pub name: String,
}

impl GenericRef {
    /// `Kind/name` or `Kind/namespace/name`, for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.ty.kind, self.name),
            None => format!("{}/{}", self.ty.kind, self.name),
        }
    }
}

/// 404 from the API: the object, or its whole type (CRD not installed), does not exist.
fn is_404(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

impl Cluster {
    fn generic_api(&self, ty: &ResourceType, namespace: Option<&str>) -> Api<DynamicObject> {
        let ar = ty.api_resource();
        match namespace {
            Some(ns) if ty.namespaced => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        }
    }

    /// Server-side apply of one object (field manager from the provider settings).
    pub async fn apply_generic(&self, r: &GenericRef, object: &Json) -> Result<(), KubeError> {
        let fm = &self.settings.field_manager;
        let mut params = PatchParams::apply(&fm.name);
        params.force = fm.force_conflicts;
        tracing::debug!(object = %r.describe(), "server-side apply");
        self.generic_api(&r.ty, r.namespace.as_deref())
            .patch(&r.name, &params, &Patch::Apply(object))
            .await
            .map_err(|e| self.err(e, format!("apply {}", r.describe())))?;
        Ok(())
    }

    /// Server-side apply of an object whose type may not be served yet (its CRD is being
    /// installed, e.g. by an add-on in the same Terraform run): retry while the API answers
    /// 404, until `timeout`, or until `stop` fires.
    pub async fn apply_generic_when_served(
        &self,
        r: &GenericRef,
        object: &Json,
        timeout: Duration,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), KubeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut logged = false;
        loop {
            match self.apply_generic(r, object).await {
                Err(KubeError::Api {
                    code: 404, message, ..
                }) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(KubeError::NotServed(format!(
                            "cannot apply {}: the API at {} does not serve {} ({}) after waiting {}s for its CustomResourceDefinition {:?} ({message}). Install it first (cert-manager: the cert_manager add-on of modules/eks-addons), or let this resource wait longer with crd_wait_timeout; with the add-on in the same configuration, add depends_on = [module.addons] so the wait starts when it is installed",
                            r.describe(),
                            self.host,
                            r.ty.kind,
                            r.ty.api_version,
                            timeout.as_secs(),
                            r.ty.resource_name(),
                        )));
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

    /// GET one object; `None` when it, or its type, does not exist.
    pub async fn get_generic(&self, r: &GenericRef) -> Result<Option<Json>, KubeError> {
        match self
            .generic_api(&r.ty, r.namespace.as_deref())
            .get(&r.name)
            .await
        {
            Ok(o) => Ok(serde_json::to_value(o).ok()),
            Err(e) if is_404(&e) => Ok(None),
            Err(e) => Err(self.err(e, format!("get {}", r.describe()))),
        }
    }

    /// GET several objects concurrently, in the given order.
    pub async fn get_all_generic(
        &self,
        refs: &[GenericRef],
    ) -> Result<Vec<Option<Json>>, KubeError> {
        join_all(refs.iter().map(|r| self.get_generic(r)))
            .await
            .into_iter()
            .collect()
    }

    /// Objects of type `ty` in every namespace matching `selector`; empty when the type is not
    /// served (a CRD that is not installed has no objects).
    pub async fn list_generic(
        &self,
        ty: &ResourceType,
        selector: &str,
    ) -> Result<Vec<GenericRef>, KubeError> {
        let lp = ListParams::default().labels(selector);
        match self.generic_api(ty, None).list_metadata(&lp).await {
            Ok(list) => Ok(list
                .items
                .into_iter()
                // Objects already being deleted are on their way out.
                .filter(|o| o.metadata.deletion_timestamp.is_none())
                .filter_map(|o| {
                    Some(GenericRef {
                        ty: ty.clone(),
                        namespace: o.metadata.namespace.filter(|_| ty.namespaced),
                        name: o.metadata.name?,
                    })
                })
                .collect()),
            Err(e) if is_404(&e) => Ok(Vec::new()),
            Err(e) => Err(self.err(e, format!("list {} ({selector})", ty.resource_name()))),
        }
    }

    /// Full objects of type `ty` matching `selector` in every namespace (import), leaving out
    /// those already being deleted.
    pub async fn list_generic_objects(
        &self,
        ty: &ResourceType,
        selector: &str,
    ) -> Result<Vec<Json>, KubeError> {
        let lp = ListParams::default().labels(selector);
        match self.generic_api(ty, None).list(&lp).await {
            Ok(list) => Ok(list
                .items
                .into_iter()
                .filter(|o| o.metadata.deletion_timestamp.is_none())
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect()),
            Err(e) if is_404(&e) => Ok(Vec::new()),
            Err(e) => Err(self.err(e, format!("list {} ({selector})", ty.resource_name()))),
        }
    }

    /// Delete one object (background propagation); already gone, already being deleted (a
    /// terminating namespace answers 409), or its type not served, is fine.
    pub async fn delete_generic(&self, r: &GenericRef) -> Result<(), KubeError> {
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        let api = self.generic_api(&r.ty, r.namespace.as_deref());
        match api.delete(&r.name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) if is_404(&e) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => match api.get_opt(&r.name).await {
                Ok(None) => Ok(()),
                Ok(Some(o)) if o.metadata.deletion_timestamp.is_some() => Ok(()),
                _ => Err(KubeError::Api {
                    action: format!("delete {}", r.describe()),
                    code: s.code,
                    reason: s.reason.clone(),
                    message: s.message.clone(),
                }),
            },
            Err(e) => Err(self.err(e, format!("delete {}", r.describe()))),
        }
    }

    /// Names of the Deployments in `namespace` (a namespace with apps must not be deleted
    /// in passing).
    pub async fn deployment_names(&self, namespace: &str) -> Result<Vec<String>, KubeError> {
        let api: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(self.client.clone(), namespace);
        match api.list_metadata(&ListParams::default()).await {
            Ok(list) => Ok(list
                .items
                .into_iter()
                .filter_map(|d| d.metadata.name)
                .collect()),
            Err(e) if is_404(&e) => Ok(Vec::new()),
            Err(e) => Err(self.err(e, format!("list Deployments in namespace {namespace}"))),
        }
    }
}

#[cfg(test)]
mod generic_tests {
    use super::*;

    #[test]
    fn custom_types_are_named_like_their_crd() {
        let ci = ResourceType::new(
            "cert-manager.io/v1",
            "ClusterIssuer",
            "clusterissuers",
            false,
        );
        assert_eq!(ci.resource_name(), "clusterissuers.cert-manager.io");
        let ar = ci.api_resource();
        assert_eq!(
            (ar.group.as_str(), ar.version.as_str()),
            ("cert-manager.io", "v1")
        );
        let ns = ResourceType::new("v1", "Namespace", "namespaces", false);
        assert_eq!(ns.resource_name(), "namespaces");
        assert_eq!(ns.api_resource().api_version, "v1");
        let r = GenericRef {
            ty: ResourceType::new("v1", "LimitRange", "limitranges", true),
            namespace: Some("shop".into()),
            name: "jke-limits".into(),
        };
        assert_eq!(r.describe(), "LimitRange/shop/jke-limits");
    }
}
