//! Server-side apply of any object with the configured field manager, and guarded patches
//! of an object's metadata (who owns which field).

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

    /// Server-side apply of one object; returns the object as the server answered (`Null` if
    /// it could not be turned into JSON).
    pub async fn apply(&self, r: &ObjectRef, object: &Json) -> Result<Json, KubeError> {
        let fm = &self.settings.field_manager;
        let mut params = PatchParams::apply(&fm.name);
        params.force = fm.force_conflicts;
        tracing::debug!(object = %r.describe(), "server-side apply");
        let api = self.api(r);
        let patch = Patch::Apply(object);
        // Server-side apply is idempotent: sending it again after a lost answer is safe.
        let applied = self
            .retry("apply", || api.patch(&r.name, &params, &patch))
            .await
            .map_err(|e| self.err(e, format!("apply {}", r.describe())))?;
        Ok(serde_json::to_value(applied).unwrap_or_default())
    }

    /// Merge `metadata` (e.g. a new `managedFields`, who owns which field, and annotations
    /// to drop) into an object's metadata, provided it is still at `resource_version`; nothing
    /// else of the object changes. A following server-side apply no longer sending a field
    /// its manager now owns removes it.
    pub async fn patch_metadata(
        &self,
        r: &ObjectRef,
        resource_version: &str,
        metadata: &Json,
    ) -> Result<(), KubeError> {
        let params = PatchParams {
            field_manager: Some(self.settings.field_manager.name.clone()),
            ..PatchParams::default()
        };
        let mut metadata = metadata.clone();
        metadata["resourceVersion"] = Json::String(resource_version.to_string());
        let patch = serde_json::json!({ "metadata": metadata });
        tracing::debug!(object = %r.describe(), "patching metadata");
        let api = self.api(r);
        let patch = Patch::Merge(&patch);
        // Guarded by resourceVersion: a repeat after a lost answer fails with 409, not twice.
        self.retry("patch metadata", || api.patch(&r.name, &params, &patch))
            .await
            .map_err(|e| self.err(e, format!("patch the metadata of {}", r.describe())))?;
        Ok(())
    }

    /// Merge into `r`'s metadata what `compute` makes of the live object (`None`: nothing to
    /// change), starting from `live` as just read. Each write is guarded by the version it was
    /// computed from; a 409 says the object changed since: someone else wrote it, or this very
    /// write was done but its answer lost (the retry then meets the new version). Either way
    /// the object is read again and `compute` asked again, [`REWRITE_ROUNDS`] rounds at most.
    /// `true` when a write was made (or its answer lost).
    pub async fn rewrite_metadata(
        &self,
        r: &ObjectRef,
        live: Json,
        compute: impl Fn(&Json) -> Option<Json>,
    ) -> Result<bool, KubeError> {
        rewrite_rounds(
            live,
            compute,
            || self.get(r),
            |version, metadata| async move { self.patch_metadata(r, &version, &metadata).await },
        )
        .await
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
    ) -> Result<Json, KubeError> {
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
}

/// Rounds of [`Cluster::rewrite_metadata`]: the first write and two more after a 409.
pub const REWRITE_ROUNDS: u32 = 3;

/// [`Cluster::rewrite_metadata`] with the cluster's `read` and guarded `write` (given the
/// version and the metadata to merge) passed in.
async fn rewrite_rounds<R, RF, W, WF>(
    live: Json,
    compute: impl Fn(&Json) -> Option<Json>,
    mut read: R,
    mut write: W,
) -> Result<bool, KubeError>
where
    R: FnMut() -> RF,
    RF: std::future::Future<Output = Result<Option<Json>, KubeError>>,
    W: FnMut(String, Json) -> WF,
    WF: std::future::Future<Output = Result<(), KubeError>>,
{
    let mut live = Some(live);
    let mut round = 1;
    loop {
        // Gone (the apply that follows creates it) or nothing (left) to change: done, and
        // written if an earlier round wrote.
        let Some(object) = &live else {
            return Ok(round > 1);
        };
        let Some(managed) = compute(object) else {
            return Ok(round > 1);
        };
        let version = object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match write(version, managed).await {
            Err(e) if e.is_outdated() && round < REWRITE_ROUNDS => {
                tracing::debug!(
                    round,
                    "the object changed since it was read; reading it again"
                );
                round += 1;
                live = read().await?;
            }
            done => return done.map(|()| true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::RefCell;

    fn object(version: &str, foreign: bool) -> Json {
        json!({ "metadata": { "resourceVersion": version }, "foreign": foreign })
    }

    /// Takes over when the object still has a foreign field.
    fn take_over(o: &Json) -> Option<Json> {
        o["foreign"].as_bool().filter(|&f| f).map(|_| json!([]))
    }

    fn outdated() -> KubeError {
        KubeError::Api {
            action: "take over fields".into(),
            code: 409,
            reason: "Conflict".into(),
            message: "the object has been modified".into(),
        }
    }

    /// Runs the rounds against a cluster that answers the writes with `answers` (then Ok) and
    /// each read with the next of `reads`; returns the result, the versions written and the
    /// number of reads.
    async fn rounds(
        answers: Vec<Result<(), KubeError>>,
        reads: Vec<Option<Json>>,
    ) -> (Result<bool, KubeError>, Vec<String>, usize) {
        let answers = RefCell::new(answers.into_iter());
        let reads = RefCell::new(reads.into_iter());
        let (written, read) = (RefCell::new(Vec::new()), RefCell::new(0));
        let result = rewrite_rounds(
            object("1", true),
            take_over,
            || {
                *read.borrow_mut() += 1;
                let next = reads.borrow_mut().next().flatten();
                async move { Ok(next) }
            },
            |version, _| {
                written.borrow_mut().push(version);
                let answer = answers.borrow_mut().next().unwrap_or(Ok(()));
                async move { answer }
            },
        )
        .await;
        (result, written.into_inner(), read.into_inner())
    }

    #[tokio::test]
    async fn a_write_done_but_whose_answer_was_lost_is_not_done_again() {
        // The retry met 409: the version moved because the write happened; nothing is left.
        let (result, written, read) =
            rounds(vec![Err(outdated())], vec![Some(object("2", false))]).await;
        assert!(matches!(result, Ok(true)), "{result:?}");
        assert_eq!(written, ["1"]);
        assert_eq!(read, 1);
    }

    #[tokio::test]
    async fn an_object_changed_meanwhile_is_recomputed_and_written_at_its_new_version() {
        let (result, written, _) =
            rounds(vec![Err(outdated())], vec![Some(object("2", true))]).await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(written, ["1", "2"]);
        // Deleted meanwhile: the apply that follows creates it; nothing to take over.
        let (result, written, _) = rounds(vec![Err(outdated())], vec![None]).await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(written, ["1"]);
    }

    #[tokio::test]
    async fn rounds_are_bounded_and_other_errors_are_final() {
        let busy = (2..=9)
            .map(|v| Some(object(&v.to_string(), true)))
            .collect();
        let (result, written, _) = rounds((0..9).map(|_| Err(outdated())).collect(), busy).await;
        assert!(
            matches!(result, Err(KubeError::Api { code: 409, .. })),
            "{result:?}"
        );
        assert_eq!(written.len(), REWRITE_ROUNDS as usize);
        let forbidden = KubeError::Api {
            action: "take over fields".into(),
            code: 403,
            reason: "Forbidden".into(),
            message: "no".into(),
        };
        let (result, written, read) = rounds(vec![Err(forbidden)], vec![]).await;
        assert!(
            matches!(result, Err(KubeError::Api { code: 403, .. })),
            "{result:?}"
        );
        assert_eq!((written.len(), read), (1, 0));
        // Nothing foreign from the start: no write at all.
        let none = rewrite_rounds(
            object("1", false),
            take_over,
            || async { Ok(None) },
            |_, _| async { Err(outdated()) },
        )
        .await;
        assert!(matches!(none, Ok(false)), "{none:?}");
    }
}
