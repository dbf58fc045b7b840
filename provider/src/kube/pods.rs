//! Pods of a workload and what they say: listing by label selector, readiness, log streams
//! and warning events. Knows Kubernetes only; which labels make "an app" is the caller's.

use super::client::Cluster;
use super::error::KubeError;
use futures::{AsyncBufReadExt, Stream, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::Resource;
use kube::api::{Api, ListParams, LogParams};
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// Which part of a container's log to read (the `pods/log` query).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub container: Option<String>,
    pub follow: bool,
    pub since_seconds: Option<i64>,
    pub tail_lines: Option<i64>,
    pub previous: bool,
}

/// Whether the pod is Ready (its `Ready` condition is True) and not being deleted.
pub fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The pod's name ("" when the server gave none, which it always does).
pub fn pod_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

impl Cluster {
    fn kerr(&self, e: kube::Error, action: String) -> KubeError {
        KubeError::from_kube(e, &self.host, &action)
    }

    /// Pods in `namespace` matching the label `selector`, sorted by name.
    pub async fn list_pods(&self, namespace: &str, selector: &str) -> Result<Vec<Pod>, KubeError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let lp = ListParams::default().labels(selector);
        let mut pods = self
            .retry("list", || api.list(&lp))
            .await
            .map_err(|e| {
                self.kerr(
                    e,
                    format!("list pods ({selector}) in namespace {namespace}"),
                )
            })?
            .items;
        pods.sort_by(|a, b| pod_name(a).cmp(pod_name(b)));
        Ok(pods)
    }

    /// One namespaced object by name; `None` when it does not exist.
    pub async fn get_namespaced<K>(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<K>, KubeError>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        self.retry("get", || api.get_opt(name)).await.map_err(|e| {
            self.kerr(
                e,
                format!("get {}/{name} in namespace {namespace}", K::kind(&())),
            )
        })
    }

    /// One cluster-scoped object by name; `None` when it does not exist.
    pub async fn get_cluster_scoped<K>(&self, name: &str) -> Result<Option<K>, KubeError>
    where
        K: Resource<Scope = ClusterResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = Api::all(self.client.clone());
        self.retry("get", || api.get_opt(name))
            .await
            .map_err(|e| self.kerr(e, format!("get {}/{name}", K::kind(&()))))
    }

    /// Names of the namespaced objects of type `K` matching `selector`, sorted.
    pub async fn list_names<K>(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<String>, KubeError>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        let lp = ListParams::default().labels(selector);
        let mut names: Vec<String> = self
            .retry("list", || api.list_metadata(&lp))
            .await
            .map_err(|e| {
                self.kerr(
                    e,
                    format!("list {} in namespace {namespace}", K::plural(&())),
                )
            })?
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// The pod's log as a stream of lines (without their line ends). With `follow` the
    /// stream stays open until the container stops or the caller drops it.
    pub async fn pod_log_lines(
        &self,
        namespace: &str,
        pod: &str,
        opts: &LogOptions,
    ) -> Result<impl Stream<Item = Result<String, KubeError>> + use<>, KubeError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let lp = LogParams {
            container: opts.container.clone(),
            follow: opts.follow,
            since_seconds: opts.since_seconds,
            tail_lines: opts.tail_lines,
            previous: opts.previous,
            ..LogParams::default()
        };
        let action = format!("read the log of pod {pod} in namespace {namespace}");
        let reader = self
            .retry("log", || api.log_stream(pod, &lp))
            .await
            .map_err(|e| self.kerr(e, action.clone()))?;
        let host = self.host.clone();
        Ok(reader.lines().map_err(move |e| KubeError::Transient {
            host: host.clone(),
            action: action.clone(),
            source: kube::Error::ReadEvents(e),
        }))
    }

    /// Warning events in `namespace`, oldest first.
    pub async fn warning_events(&self, namespace: &str) -> Result<Vec<Event>, KubeError> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let lp = ListParams::default().fields("type=Warning");
        let mut events = self
            .retry("list", || api.list(&lp))
            .await
            .map_err(|e| self.kerr(e, format!("list events in namespace {namespace}")))?
            .items;
        events.sort_by_key(event_time);
        Ok(events)
    }
}

/// When the event last happened (seconds since the epoch; 0 when unknown).
pub fn event_time(e: &Event) -> i64 {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};

    fn pod(ready: &str) -> Pod {
        Pod {
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: ready.into(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
            ..Pod::default()
        }
    }

    #[test]
    fn a_pod_is_ready_when_its_ready_condition_is_true() {
        assert!(is_ready(&pod("True")));
        assert!(!is_ready(&pod("False")));
        assert!(!is_ready(&Pod::default()));
    }
}
