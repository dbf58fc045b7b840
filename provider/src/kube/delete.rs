//! Delete, wait for deletion, and prune (delete what a selector finds beyond a keep list).

use super::client::Cluster;
use super::error::KubeError;
use super::object::{ObjectRef, ResourceType};
use super::read::is_404;
use super::retry;
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    DeleteParams, DynamicObject, ListParams, PropagationPolicy, WatchEvent, WatchParams,
};
use std::collections::BTreeSet;
use std::time::Duration;

/// How long one watch lasts before the server ends it (and the wait reads again).
const WATCH_SECONDS: u32 = 60;

/// How dependents of a deleted object go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents (ReplicaSets, pods) first; the object goes last.
    Foreground,
    /// The object goes now; the garbage collector removes dependents afterwards.
    Background,
}

/// What a delete's answer says of the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    /// It no longer exists: the server removed it at once, or it was gone already.
    Gone,
    /// It is still there, being deleted (finalizers, a grace period, foreground propagation).
    Going,
}

impl Deleted {
    /// From a successful DELETE's answer, `object` being the object it returned if any: a
    /// `Status` means the object was removed; an object comes back either as it was when
    /// removed (no deletion timestamp: some types return the deleted object) or marked for a
    /// deletion still to come.
    fn of(object: Option<&DynamicObject>) -> Self {
        match object {
            Some(o) if o.metadata.deletion_timestamp.is_some() => Deleted::Going,
            _ => Deleted::Gone,
        }
    }
}

impl Cluster {
    /// Delete one object. Already gone, already being deleted (a terminating namespace
    /// answers 409), or its type not served, is fine.
    pub async fn delete(&self, r: &ObjectRef, how: Propagation) -> Result<Deleted, KubeError> {
        let dp = DeleteParams {
            propagation_policy: Some(match how {
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Background => PropagationPolicy::Background,
            }),
            ..DeleteParams::default()
        };
        let api = self.api(r);
        // A delete whose answer was lost may have happened: the retry's 404 is success.
        match self.retry("delete", || api.delete(&r.name, &dp)).await {
            Ok(answer) => Ok(Deleted::of(answer.as_ref().left())),
            Err(e) if is_404(&e) => Ok(Deleted::Gone),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                match self.retry("get", || api.get_opt(&r.name)).await {
                    Ok(None) => Ok(Deleted::Gone),
                    Ok(Some(o)) if o.metadata.deletion_timestamp.is_some() => Ok(Deleted::Going),
                    _ => Err(KubeError::Api {
                        action: format!("delete {}", r.describe()),
                        code: s.code,
                        reason: s.reason.clone(),
                        message: s.message.clone(),
                    }),
                }
            }
            Err(e) => Err(self.err(e, format!("delete {}", r.describe()))),
        }
    }

    /// Delete all `refs` and wait until every one is gone, or `timeout` passes. Everything
    /// but the workloads goes first (Ingress, Service, policies: traffic stops before the
    /// pods go), then the workloads with `how`; the deletes of each step are sent at once,
    /// and the wait watches each object the answers say is still there instead of polling
    /// (most objects go at once: no wait, no request more).
    pub async fn delete_and_wait(
        &self,
        refs: &[ObjectRef],
        how: Propagation,
        timeout: Duration,
    ) -> Result<(), KubeError> {
        let (workloads, rest): (Vec<&ObjectRef>, Vec<&ObjectRef>) =
            refs.iter().partition(|r| r.ty.kind == "Deployment");
        // Only workloads have dependents worth waiting for (ReplicaSets, pods). The others
        // go at once: with foreground propagation each would wait for the garbage collector
        // to clear its finalizer, seconds per object on a busy controller manager.
        let rest_deleted =
            try_join_all(rest.iter().map(|r| self.delete(r, Propagation::Background))).await?;
        let workloads_deleted = try_join_all(workloads.iter().map(|r| self.delete(r, how))).await?;
        let going: Vec<ObjectRef> = rest
            .into_iter()
            .chain(workloads)
            .zip(rest_deleted.into_iter().chain(workloads_deleted))
            .filter(|(_, d)| *d == Deleted::Going)
            .map(|(r, _)| r.clone())
            .collect();
        let deadline = tokio::time::Instant::now() + timeout;
        let all_gone = try_join_all(going.iter().map(|r| self.wait_gone(r, deadline)));
        match tokio::time::timeout(timeout, all_gone).await {
            Ok(done) => done.map(|_| ()),
            Err(_) => {
                // Name each object still there, and what holds it (its finalizers).
                let left: Vec<String> = self
                    .get_all(&going)
                    .await?
                    .iter()
                    .zip(&going)
                    .filter_map(|(o, r)| {
                        let o = o.as_ref()?;
                        let finalizers: Vec<&str> = o["metadata"]["finalizers"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|f| f.as_str())
                            .collect();
                        Some(if finalizers.is_empty() {
                            r.describe()
                        } else {
                            format!(
                                "{} (held by finalizers {})",
                                r.describe(),
                                finalizers.join(", ")
                            )
                        })
                    })
                    .collect();
                if left.is_empty() {
                    return Ok(());
                }
                Err(KubeError::DeleteTimeout {
                    waited: timeout,
                    left,
                })
            }
        }
    }

    /// Returns when `r` no longer exists: one GET, then a watch on that one object from
    /// the version read until it is deleted (again after the server ends a watch, or after
    /// the connection broke; paced by [`retry::Reopen`]). Transient errors are retried until
    /// `deadline`.
    async fn wait_gone(
        &self,
        r: &ObjectRef,
        deadline: tokio::time::Instant,
    ) -> Result<(), KubeError> {
        let api = self.api(r);
        let fail = |e| self.err(e, format!("wait for the deletion of {}", r.describe()));
        let mut reopen = retry::Reopen::default();
        loop {
            reopen.pause("deletion", deadline).await;
            let read = self
                .retry_until("get", deadline, || api.get_opt(&r.name))
                .await;
            let Some(obj) = read.map_err(fail)? else {
                return Ok(());
            };
            let version = obj.metadata.resource_version.unwrap_or_default();
            let params = WatchParams::default()
                .fields(&format!("metadata.name={}", r.name))
                .timeout(WATCH_SECONDS);
            tracing::debug!(object = %r.describe(), "watching until deleted");
            let opened = self
                .retry_until("watch", deadline, || api.watch(&params, &version))
                .await;
            let mut events = opened.map_err(fail)?.boxed();
            loop {
                match events.try_next().await {
                    Ok(Some(WatchEvent::Deleted(_))) => return Ok(()),
                    // The version read is too old to watch from, the server ended the watch,
                    // or the connection broke: read again.
                    Ok(Some(WatchEvent::Error(_)) | None) => break,
                    Ok(Some(_)) => reopen.delivered(),
                    Err(e) if retry::classify(&e).is_some() => break,
                    Err(e) => return Err(fail(e)),
                }
            }
        }
    }

    /// Wait until nothing of `types` in `namespace` matches `selector` (e.g. the pods a
    /// deleted Deployment leaves to the garbage collector), or `timeout` passes.
    pub async fn wait_none(
        &self,
        types: &[ResourceType],
        namespace: &str,
        selector: &str,
        timeout: Duration,
    ) -> Result<(), KubeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let all = try_join_all(
            types
                .iter()
                .map(|t| self.wait_none_of(t, namespace, selector, deadline)),
        );
        match tokio::time::timeout(timeout, all).await {
            Ok(done) => done.map(|_| ()),
            Err(_) => Err(KubeError::DeleteTimeout {
                waited: timeout,
                left: types
                    .iter()
                    .map(|t| format!("{} in {namespace} ({selector})", t.plural))
                    .collect(),
            }),
        }
    }

    /// One list, then a watch from its version that follows the matching objects until the
    /// last one is deleted (objects created meanwhile are followed too).
    async fn wait_none_of(
        &self,
        ty: &ResourceType,
        namespace: &str,
        selector: &str,
        deadline: tokio::time::Instant,
    ) -> Result<(), KubeError> {
        let api = self.api_in(ty, Some(namespace));
        let fail = |e| self.err(e, format!("wait until no {} match {selector}", ty.plural));
        let lp = ListParams::default().labels(selector);
        let mut reopen = retry::Reopen::default();
        loop {
            reopen.pause("deletion", deadline).await;
            let list = self
                .retry_until("list", deadline, || api.list_metadata(&lp))
                .await
                .map_err(fail)?;
            let mut left: BTreeSet<String> = list
                .items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .collect();
            if left.is_empty() {
                return Ok(());
            }
            let version = list.metadata.resource_version.unwrap_or_default();
            let params = WatchParams::default()
                .labels(selector)
                .timeout(WATCH_SECONDS);
            let opened = self
                .retry_until("watch", deadline, || api.watch(&params, &version))
                .await;
            let mut events = opened.map_err(fail)?.boxed();
            loop {
                let event = match events.try_next().await {
                    Ok(Some(event)) => event,
                    // Ended by the server, or the connection broke: list again.
                    Ok(None) => break,
                    Err(e) if retry::classify(&e).is_some() => break,
                    Err(e) => return Err(fail(e)),
                };
                if !matches!(event, WatchEvent::Error(_)) {
                    reopen.delivered();
                }
                match event {
                    WatchEvent::Added(o) => left.extend(o.metadata.name),
                    WatchEvent::Deleted(o) => {
                        if let Some(n) = &o.metadata.name {
                            left.remove(n);
                        }
                        if left.is_empty() {
                            return Ok(());
                        }
                    }
                    WatchEvent::Error(_) => break,
                    _ => {}
                }
            }
        }
    }

    /// Delete the objects of `types` in `namespace` that `selector` finds, `keep` does not
    /// list, and `owned` accepts by the value of their annotation `annotation` (leftovers of
    /// an interrupted apply go too; another owner's objects stay). Returns what was deleted.
    /// The first failed delete is the error: what was not deleted is still there.
    #[allow(clippy::too_many_arguments)]
    pub async fn prune(
        &self,
        types: &[ResourceType],
        namespace: Option<&str>,
        selector: &str,
        keep: &[ObjectRef],
        how: Propagation,
        annotation: &str,
        owned: impl Fn(Option<&str>) -> bool,
    ) -> Result<Vec<ObjectRef>, KubeError> {
        let mut deleted = Vec::new();
        for (r, value) in self
            .list_annotated(types, namespace, selector, annotation)
            .await?
        {
            if keep.contains(&r) {
                continue;
            }
            if !owned(value.as_deref()) {
                tracing::info!(object = %r.describe(), "not pruning an object another owner has");
                continue;
            }
            tracing::info!(object = %r.describe(), "pruning an object no longer wanted");
            self.delete(&r, how).await?;
            deleted.push(r);
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(object: serde_json::Value) -> DynamicObject {
        serde_json::from_value(object).expect("a valid object")
    }

    #[test]
    fn only_an_object_marked_for_deletion_is_still_going() {
        // A Status answer: removed at once.
        assert_eq!(Deleted::of(None), Deleted::Gone);
        // The deleted object as it was (types that return it): removed at once too.
        let removed = answer(serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "web", "namespace": "shop" }
        }));
        assert_eq!(Deleted::of(Some(&removed)), Deleted::Gone);
        // Held by a finalizer or a grace period: marked, still there.
        let held = answer(serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": "web", "namespace": "shop",
                "deletionTimestamp": "2026-12-06T22:00:00Z",
                "finalizers": ["e2e.jke.dev/hold"]
            }
        }));
        assert_eq!(Deleted::of(Some(&held)), Deleted::Going);
    }
}
