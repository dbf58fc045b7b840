//! Waiting for a Deployment rollout, and saying why one failed.

use super::client::Cluster;
use super::error::KubeError;
use super::retry;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use std::time::Duration;
use tokio::sync::watch;

/// How long one watch lasts before the server ends it (and the wait opens another).
const WATCH_SECONDS: u32 = 60;

/// Rollout progress of one Deployment, as `kubectl rollout status` judges it.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    Done,
    Waiting(String),
    /// Kubernetes gave up (progress deadline exceeded).
    Failed(String),
}

pub fn progress(d: &Deployment) -> Progress {
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(status) = &d.status else {
        return Progress::Waiting("no status yet".into());
    };
    if status.observed_generation.unwrap_or(0) < generation {
        return Progress::Waiting("waiting for the deployment controller to see the change".into());
    }
    if let Some(c) = status.conditions.iter().flatten().find(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    }) {
        return Progress::Failed(
            c.message
                .clone()
                .unwrap_or_else(|| "progress deadline exceeded".into()),
        );
    }
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < want {
        return Progress::Waiting(format!("{updated}/{want} pods updated"));
    }
    if total > updated {
        return Progress::Waiting(format!("{} old pods still terminating", total - updated));
    }
    if available < updated {
        return Progress::Waiting(format!("{available}/{want} pods available"));
    }
    Progress::Done
}

impl Cluster {
    /// Wait until the Deployment has rolled out (returned as last seen), failed, timed out,
    /// or `stop` fires.
    ///
    /// One GET (none when the caller has the Deployment as written, see
    /// [`Self::wait_for_rollout_from`]), then a watch on that one Deployment from that version:
    /// every change of its status arrives as an event, so the wait costs no request per second. A watch
    /// the server ends, or whose connection breaks, is opened again from the last version
    /// seen (after a growing wait when it keeps breaking, see [`retry::Reopen`]); one whose
    /// version has expired (410 Gone, an error event) starts over with a GET.
    /// Transient errors (the API server restarting) are retried until the wait's deadline.
    pub async fn wait_for_rollout(
        &self,
        namespace: &str,
        name: &str,
        timeout: Duration,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Deployment, KubeError> {
        self.wait_for_rollout_reporting(namespace, name, timeout, stop, &|_: &str| {})
            .await
    }

    /// [`Self::wait_for_rollout`] from `written`, the Deployment as the server answered the
    /// write that started the rollout: the watch opens from its version, without a GET.
    pub async fn wait_for_rollout_from(
        &self,
        namespace: &str,
        name: &str,
        written: Deployment,
        timeout: Duration,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Deployment, KubeError> {
        self.wait(namespace, name, Some(written), timeout, stop, &|_: &str| {})
            .await
    }

    /// [`Self::wait_for_rollout`], telling `report` each new state ("1/2 pods updated").
    pub async fn wait_for_rollout_reporting(
        &self,
        namespace: &str,
        name: &str,
        timeout: Duration,
        stop: &mut watch::Receiver<bool>,
        report: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Deployment, KubeError> {
        self.wait(namespace, name, None, timeout, stop, report)
            .await
    }

    async fn wait(
        &self,
        namespace: &str,
        name: &str,
        written: Option<Deployment>,
        timeout: Duration,
        stop: &mut watch::Receiver<bool>,
        report: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Deployment, KubeError> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        let deadline = tokio::time::Instant::now() + timeout;
        let fail = |e| {
            KubeError::from_kube(
                e,
                &self.host,
                &format!("watch Deployment/{name} in namespace {namespace}"),
            )
        };
        let mut last = String::new();
        // A watch that breaks again right after it opened is not opened again at once.
        let mut reopen = retry::Reopen::default();
        let mut d = match written {
            Some(d) => d,
            None => {
                self.read_deployment(&api, namespace, name, deadline)
                    .await?
            }
        };
        loop {
            if let Some(done) = self.judge(namespace, name, &d, &mut last, report).await {
                return done.map(|()| d);
            }
            let version = d.metadata.resource_version.clone().unwrap_or_default();
            let params = WatchParams::default()
                .fields(&format!("metadata.name={name}"))
                .timeout(WATCH_SECONDS);
            let opened = tokio::select! {
                w = async {
                    reopen.pause("rollout", deadline).await;
                    self.retry_until("watch", deadline, || api.watch(&params, &version)).await
                } => w.map_err(fail),
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(self.timed_out(namespace, name, &d, timeout, &last).await);
                }
                _ = stop.changed() => return Err(KubeError::Cancelled),
            };
            let mut events = match opened {
                Ok(events) => events.boxed(),
                Err(KubeError::Api { code: 410, .. }) => {
                    d = self
                        .read_deployment(&api, namespace, name, deadline)
                        .await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            loop {
                let event = tokio::select! {
                    e = events.try_next() => match e {
                        Ok(event) => event,
                        // The connection broke: open the watch again from the last version.
                        Err(e) if retry::classify(&e).is_some() => {
                            tracing::warn!(deployment = name, namespace, error = %e, "rollout watch broken; opening it again");
                            break;
                        }
                        Err(e) => return Err(fail(e)),
                    },
                    _ = tokio::time::sleep_until(deadline) => {
                        return Err(self.timed_out(namespace, name, &d, timeout, &last).await);
                    }
                    _ = stop.changed() => return Err(KubeError::Cancelled),
                };
                match event {
                    Some(WatchEvent::Added(next) | WatchEvent::Modified(next)) => {
                        reopen.delivered();
                        d = next;
                        if let Some(done) = self.judge(namespace, name, &d, &mut last, report).await
                        {
                            return done.map(|()| d);
                        }
                    }
                    Some(WatchEvent::Bookmark(b)) => {
                        reopen.delivered();
                        d.metadata.resource_version = Some(b.metadata.resource_version);
                    }
                    // Deleted under the wait, or the version read expired: read again (a
                    // deleted Deployment then fails the wait as the GET did before).
                    Some(WatchEvent::Deleted(_) | WatchEvent::Error(_)) => {
                        d = self
                            .read_deployment(&api, namespace, name, deadline)
                            .await?;
                        break;
                    }
                    // The server ended the watch: open it again from the last version.
                    None => break,
                }
            }
        }
    }

    async fn read_deployment(
        &self,
        api: &Api<Deployment>,
        namespace: &str,
        name: &str,
        deadline: tokio::time::Instant,
    ) -> Result<Deployment, KubeError> {
        let read = tokio::select! {
            read = self.retry_until("get", deadline, || api.get(name)) => read,
            // Retries end before the deadline; this only bounds a request hanging past it.
            _ = tokio::time::sleep_until(deadline) => {
                return Err(KubeError::Rollout {
                    reason: format!("rollout of Deployment/{name} did not finish in time: the API server did not answer"),
                });
            }
        };
        read.map_err(|e| {
            KubeError::from_kube(
                e,
                &self.host,
                &format!("get Deployment/{name} in namespace {namespace}"),
            )
        })
    }

    /// `Some` with the result once `d` has rolled out or failed; `None` while it is still
    /// on its way (logging and reporting each new state once).
    async fn judge(
        &self,
        namespace: &str,
        name: &str,
        d: &Deployment,
        last: &mut String,
        report: &(dyn Fn(&str) + Send + Sync),
    ) -> Option<Result<(), KubeError>> {
        match progress(d) {
            Progress::Done => {
                tracing::info!(deployment = name, namespace, "rollout complete");
                let n = d
                    .status
                    .as_ref()
                    .and_then(|s| s.updated_replicas)
                    .unwrap_or(0);
                report(&format!("{n}/{n} pods updated and available"));
                Some(Ok(()))
            }
            Progress::Failed(why) => {
                let pods = self.explain_pods(namespace, d).await;
                Some(Err(KubeError::Rollout {
                    reason: format!("rollout of Deployment/{name} failed: {why}; {pods}"),
                }))
            }
            Progress::Waiting(msg) => {
                if msg != *last {
                    tracing::info!(deployment = name, namespace, "rollout: {msg}");
                    report(&msg);
                    *last = msg;
                }
                None
            }
        }
    }

    async fn timed_out(
        &self,
        namespace: &str,
        name: &str,
        d: &Deployment,
        timeout: Duration,
        last: &str,
    ) -> KubeError {
        let pods = self.explain_pods(namespace, d).await;
        KubeError::Rollout {
            reason: format!(
                "rollout of Deployment/{name} did not finish within {}s ({last}); {pods}",
                timeout.as_secs()
            ),
        }
    }

    /// "0/2 pods available: 0/3 nodes are available: 3 node(s) didn't match Pod's node
    /// affinity/selector": the most telling reason among the app's pods.
    pub async fn explain_pods(&self, namespace: &str, d: &Deployment) -> String {
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let available = d
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0);
        let selector = d
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.as_ref())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let pods = api.list(&ListParams::default().labels(&selector)).await;
        let mut reasons: Vec<String> = Vec::new();
        for p in pods.map(|l| l.items).unwrap_or_default() {
            let Some(st) = p.status else { continue };
            for c in st.conditions.iter().flatten() {
                if c.type_ == "PodScheduled" && c.status == "False" {
                    reasons.push(
                        c.message
                            .clone()
                            .unwrap_or_else(|| "pod cannot be scheduled".into()),
                    );
                }
            }
            for cs in st.container_statuses.iter().flatten() {
                if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
                    let why = w.reason.clone().unwrap_or_default();
                    if why != "ContainerCreating" {
                        reasons.push(
                            format!(
                                "container {}: {why} {}",
                                cs.name,
                                w.message.clone().unwrap_or_default()
                            )
                            .trim()
                            .to_string(),
                        );
                    }
                }
            }
        }
        reasons.sort();
        reasons.dedup();
        if reasons.is_empty() {
            // No pods at all: the ReplicaSet could not create them (admission refused them,
            // e.g. Pod Security or a quota), and the Deployment carries its message.
            reasons.extend(
                d.status
                    .iter()
                    .flat_map(|s| s.conditions.iter().flatten())
                    .filter(|c| c.type_ == "ReplicaFailure" && c.status == "True")
                    .filter_map(|c| c.message.clone()),
            );
        }
        match reasons.first() {
            Some(r) => format!("{available}/{want} pods available: {r}"),
            None => format!("{available}/{want} pods available"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn dep(
        generation: i64,
        observed: i64,
        want: i32,
        updated: i32,
        total: i32,
        available: i32,
    ) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                generation: Some(generation),
                ..ObjectMeta::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(want),
                ..DeploymentSpec::default()
            }),
            status: Some(DeploymentStatus {
                observed_generation: Some(observed),
                updated_replicas: Some(updated),
                replicas: Some(total),
                available_replicas: Some(available),
                ..DeploymentStatus::default()
            }),
        }
    }

    #[test]
    fn judges_rollouts_like_kubectl() {
        assert!(matches!(
            progress(&dep(2, 1, 2, 2, 2, 2)),
            Progress::Waiting(_)
        ));
        assert!(matches!(
            progress(&dep(2, 2, 2, 1, 3, 2)),
            Progress::Waiting(_)
        ));
        assert!(matches!(
            progress(&dep(2, 2, 2, 2, 3, 2)),
            Progress::Waiting(_)
        ));
        assert!(matches!(
            progress(&dep(2, 2, 2, 2, 2, 1)),
            Progress::Waiting(_)
        ));
        assert_eq!(progress(&dep(2, 2, 2, 2, 2, 2)), Progress::Done);
        let mut failed = dep(2, 2, 2, 0, 2, 2);
        if let Some(s) = failed.status.as_mut() {
            s.conditions = Some(vec![DeploymentCondition {
                type_: "Progressing".into(),
                status: "False".into(),
                reason: Some("ProgressDeadlineExceeded".into()),
                message: Some("ReplicaSet \"web-1\" has timed out progressing.".into()),
                ..DeploymentCondition::default()
            }]);
        }
        assert!(matches!(progress(&failed), Progress::Failed(m) if m.contains("timed out")));
    }
}
