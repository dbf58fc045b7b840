//! Delete, wait for deletion, and prune (delete what a selector finds beyond a keep list).

use super::client::Cluster;
use super::error::KubeError;
use super::object::{ObjectRef, ResourceType};
use super::read::is_404;
use kube::api::{DeleteParams, PropagationPolicy};
use std::time::Duration;

/// How dependents of a deleted object go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents (ReplicaSets, pods) first; the object goes last.
    Foreground,
    /// The object goes now; the garbage collector removes dependents afterwards.
    Background,
}

impl Cluster {
    /// Delete one object. Already gone, already being deleted (a terminating namespace
    /// answers 409), or its type not served, is fine.
    pub async fn delete(&self, r: &ObjectRef, how: Propagation) -> Result<(), KubeError> {
        let dp = DeleteParams {
            propagation_policy: Some(match how {
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Background => PropagationPolicy::Background,
            }),
            ..DeleteParams::default()
        };
        let api = self.api(r);
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

    /// Delete all `refs` (in reverse order: traffic stops before the pods go) and wait until
    /// every one is gone, or `timeout` passes.
    pub async fn delete_and_wait(
        &self,
        refs: &[ObjectRef],
        how: Propagation,
        timeout: Duration,
    ) -> Result<(), KubeError> {
        for r in refs.iter().rev() {
            self.delete(r, how).await?;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left: Vec<String> = self
                .get_all(refs)
                .await?
                .iter()
                .zip(refs)
                .filter(|(o, _)| o.is_some())
                .map(|(_, r)| r.describe())
                .collect();
            if left.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(KubeError::DeleteTimeout {
                    waited: timeout,
                    left,
                });
            }
            tracing::debug!(waiting_for = ?left, "waiting for deletion");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Delete the objects of `types` in `namespace` that `selector` finds and `keep` does
    /// not list (leftovers of an interrupted apply go too). Returns what was deleted.
    pub async fn prune(
        &self,
        types: &[ResourceType],
        namespace: Option<&str>,
        selector: &str,
        keep: &[ObjectRef],
        how: Propagation,
    ) -> Result<Vec<ObjectRef>, KubeError> {
        let mut deleted = Vec::new();
        for r in self.list_types(types, namespace, selector).await? {
            if !keep.contains(&r) {
                tracing::info!(object = %r.describe(), "pruning an object no longer wanted");
                self.delete(&r, how).await?;
                deleted.push(r);
            }
        }
        Ok(deleted)
    }
}
