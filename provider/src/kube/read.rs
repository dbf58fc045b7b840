//! GET and LIST of any object type. A type that is not served (a CRD not installed) has no
//! objects; that is not an error.

use super::client::Cluster;
use super::error::KubeError;
use super::object::{ObjectRef, ResourceType};
use futures::future::join_all;
use kube::api::{Api, ListParams};
use serde_json::Value as Json;

/// 404 from the API: the object, or its whole type (CRD not installed), does not exist.
pub(crate) fn is_404(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

impl Cluster {
    /// GET one object; `None` when it, or its type, does not exist.
    pub async fn get(&self, r: &ObjectRef) -> Result<Option<Json>, KubeError> {
        let api = self.api(r);
        match self.retry("get", || api.get(&r.name)).await {
            Ok(o) => Ok(serde_json::to_value(o).ok()),
            Err(e) if is_404(&e) => Ok(None),
            Err(e) => Err(self.err(e, format!("get {}", r.describe()))),
        }
    }

    /// GET several objects concurrently (one request each), in the given order.
    pub async fn get_all(&self, refs: &[ObjectRef]) -> Result<Vec<Option<Json>>, KubeError> {
        join_all(refs.iter().map(|r| self.get(r)))
            .await
            .into_iter()
            .collect()
    }

    /// Objects of type `ty` matching `selector`, in `namespace` or (None) every namespace,
    /// leaving out those already being deleted.
    pub async fn list(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<ObjectRef>, KubeError> {
        Ok(self
            .list_with(ty, namespace, selector, "")
            .await?
            .into_iter()
            .map(|(r, _)| r)
            .collect())
    }

    /// [`Cluster::list`] with each object's value of the annotation `annotation`.
    async fn list_with(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        selector: &str,
        annotation: &str,
    ) -> Result<Vec<(ObjectRef, Option<String>)>, KubeError> {
        let lp = ListParams::default().labels(selector);
        let api = self.api_in(ty, namespace);
        match self.retry("list", || api.list_metadata(&lp)).await {
            Ok(list) => Ok(list
                .items
                .into_iter()
                .filter(|o| o.metadata.deletion_timestamp.is_none())
                .filter_map(|o| {
                    let value = o
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(annotation))
                        .cloned();
                    Some((
                        ObjectRef {
                            ty: ty.clone(),
                            namespace: o.metadata.namespace.filter(|_| ty.namespaced),
                            name: o.metadata.name?,
                        },
                        value,
                    ))
                })
                .collect()),
            Err(e) if is_404(&e) => Ok(Vec::new()),
            Err(e) => Err(self.err(e, format!("list {} ({selector})", ty.resource_name()))),
        }
    }

    /// [`Cluster::list_types`] with each object's value of the annotation `annotation`.
    pub async fn list_annotated(
        &self,
        types: &[ResourceType],
        namespace: Option<&str>,
        selector: &str,
        annotation: &str,
    ) -> Result<Vec<(ObjectRef, Option<String>)>, KubeError> {
        let lists = join_all(
            types
                .iter()
                .map(|t| self.list_with(t, namespace, selector, annotation)),
        )
        .await;
        let mut out = Vec::new();
        for l in lists {
            out.extend(l?);
        }
        Ok(out)
    }

    /// [`Cluster::list`] over several types at once, concurrently.
    pub async fn list_types(
        &self,
        types: &[ResourceType],
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<ObjectRef>, KubeError> {
        let lists = join_all(types.iter().map(|t| self.list(t, namespace, selector))).await;
        let mut out = Vec::new();
        for l in lists {
            out.extend(l?);
        }
        Ok(out)
    }

    /// Full objects of type `ty` matching `selector` in every namespace, leaving out those
    /// already being deleted.
    pub async fn list_objects(
        &self,
        ty: &ResourceType,
        selector: &str,
    ) -> Result<Vec<Json>, KubeError> {
        let lp = ListParams::default().labels(selector);
        let api = self.api_in(ty, None);
        match self.retry("list", || api.list(&lp)).await {
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

    /// Names of the Deployments in `namespace`.
    pub async fn deployment_names(&self, namespace: &str) -> Result<Vec<String>, KubeError> {
        let api: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(self.client.clone(), namespace);
        let lp = ListParams::default();
        match self.retry("list", || api.list_metadata(&lp)).await {
            Ok(list) => Ok(list
                .items
                .into_iter()
                .filter_map(|d| d.metadata.name)
                .collect()),
            Err(e) if is_404(&e) => Ok(Vec::new()),
            Err(e) => Err(self.err(e, format!("list Deployments in namespace {namespace}"))),
        }
    }

    /// One page of the objects of type `ty` matching `selector`, in `namespace` or (None)
    /// every namespace, and the token of the next page (None after the last). Paging lets a
    /// caller use the first objects while the rest are still being listed. Objects already
    /// being deleted are left out; a type that is not served has none.
    pub async fn list_page(
        &self,
        ty: &ResourceType,
        namespace: Option<&str>,
        selector: &str,
        page_size: u32,
        token: Option<&str>,
    ) -> Result<(Vec<Json>, Option<String>), KubeError> {
        let mut lp = ListParams::default().labels(selector).limit(page_size);
        if let Some(t) = token {
            lp = lp.continue_token(t);
        }
        let whr = match namespace {
            Some(ns) => format!("namespace {ns}"),
            None => "every namespace".to_string(),
        };
        let api = self.api_in(ty, namespace);
        match self.retry("list", || api.list(&lp)).await {
            Ok(list) => {
                let next = list.metadata.continue_.filter(|t| !t.is_empty());
                let items = list
                    .items
                    .into_iter()
                    .filter(|o| o.metadata.deletion_timestamp.is_none())
                    .filter_map(|o| serde_json::to_value(o).ok())
                    .collect();
                Ok((items, next))
            }
            Err(e) if is_404(&e) => Ok((Vec::new(), None)),
            Err(e) => Err(self.err(e, format!("list {} in {whr}", ty.resource_name()))),
        }
    }

    /// Names of every namespace.
    pub async fn namespace_names(&self) -> Result<Vec<String>, KubeError> {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        let lp = ListParams::default();
        match self.retry("list", || api.list_metadata(&lp)).await {
            Ok(list) => Ok(list
                .items
                .into_iter()
                .filter_map(|n| n.metadata.name)
                .collect()),
            Err(e) => Err(self.err(e, "list namespaces".to_string())),
        }
    }
}
