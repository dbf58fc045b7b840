//! Writing an app to the cluster: take over what others added, server-side apply in three
//! rounds, prune what the app no longer has, wait for the rollout, and finish a create.

use super::app_types;
use crate::app::application::bundle;
use crate::app::application::owner::{self, OWNER_ANNOTATION};
use crate::app::application::replicas;
use crate::app::application::spec::Spec;
use crate::app::foreign_fields::{self, Policy};
use crate::app::formats::parse_duration;
use crate::app::object::{Kind, Manifest};
use crate::kube::{Cluster, KubeError, ObjectRef, Propagation};
use crate::resources::objects::{object_ref, object_refs};
use futures::future::join_all;
use std::time::Duration;
use tokio::sync::watch;

/// Where [`converge`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    /// Writing the objects: some may be written, some not.
    Write,
    /// Deleting objects the app no longer has: some may still be there.
    Prune,
    /// Everything written and pruned; the rollout did not finish.
    Rollout,
}

/// Hand the fields other managers added to the objects (and `policy` does not leave alone)
/// to the provider's own field manager, so that applying `manifests` removes them: server-side
/// apply never removes a field another manager still owns. With `autoscaled`, a replica count
/// the provider's apply owns (from a create, or from before autoscaling was on) goes the other
/// way, to its scale entry, so that the apply leaves it (see [`replicas`]). `read` is the
/// objects as just read (namespace left out, in order); without it they are read now.
async fn take_over_foreign_fields(
    cluster: &Cluster,
    manifests: &[Manifest],
    read: Option<Vec<Option<serde_json::Value>>>,
    policy: &Policy<'_>,
    autoscaled: bool,
) -> Result<(), KubeError> {
    // The namespace is shared by many apps (and the platform's): not the app's to clean.
    let manifests: Vec<&Manifest> = manifests
        .iter()
        .filter(|m| m.kind != Kind::Namespace)
        .collect();
    let refs: Vec<ObjectRef> = manifests.iter().map(|m| object_ref(m)).collect();
    let live = match read {
        Some(l) if l.len() == refs.len() => l,
        _ => cluster.get_all(&refs).await?,
    };
    for ((m, r), l) in manifests.iter().zip(&refs).zip(live) {
        let Some(l) = l else { continue };
        let keep_count = autoscaled && m.kind == Kind::Deployment;
        let rewrite = |live: &serde_json::Value| {
            let taken = foreign_fields::take_over(live, &m.object, policy);
            let mut list = match &taken {
                Some(serde_json::Value::Array(list)) => list.clone(),
                _ => live["metadata"]["managedFields"].as_array()?.clone(),
            };
            let kept = keep_count && replicas::hand_to_scale(&mut list, policy.own_manager);
            (taken.is_some() || kept).then(|| serde_json::json!({ "managedFields": list }))
        };
        // Computed again from the object as it is after a 409 (changed meanwhile, or this
        // write done with its answer lost): a retry never hands over a stale list.
        if cluster.rewrite_metadata(r, l, rewrite).await? {
            tracing::info!(object = %r.describe(), "took over the fields other managers added, for the apply to remove");
        }
    }
    Ok(())
}

/// What [`converge`] writes over.
pub(super) enum Over {
    /// Nothing of the app: it is being created.
    Nothing,
    /// The app's objects, as read just before (namespace left out, in render order), or
    /// `None` to read them now.
    Objects(Option<Vec<Option<serde_json::Value>>>),
}

/// `manifests` in the groups they are written in, one group after the other: the namespace,
/// then what the pods use (service account, secret), so that a new pod finds them, then the
/// Deployment and everything else. Render order within a group.
fn write_order(manifests: &[Manifest]) -> Vec<Vec<&Manifest>> {
    let group = |k: Kind| match k {
        Kind::Namespace => 0,
        Kind::ServiceAccount | Kind::Secret => 1,
        _ => 2,
    };
    (0..3)
        .map(|g| manifests.iter().filter(|m| group(m.kind) == g).collect())
        .filter(|g: &Vec<&Manifest>| !g.is_empty())
        .collect()
}

/// Apply `spec`, which renders to `manifests` (already marked with `owner`): take over what
/// others added, server-side apply in order, prune what it no longer has (only objects with
/// its mark), wait for rollout. Returns the Deployment as the rollout wait last saw it (none
/// without the wait).
pub(super) async fn converge(
    cluster: &Cluster,
    spec: &Spec,
    manifests: &[Manifest],
    owner: &str,
    over: Over,
    policy: &Policy<'_>,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<serde_json::Value>, (Stage, KubeError)> {
    let write = |e| (Stage::Write, e);
    let created = matches!(over, Over::Nothing);
    if let Over::Objects(read) = over {
        take_over_foreign_fields(cluster, manifests, read, policy, spec.autoscale.enabled)
            .await
            .map_err(write)?;
    }
    // The Deployment as the server answered its write: the rollout wait starts from it.
    let mut deployment = None;
    for group in write_order(manifests) {
        // A group's objects at once: an app costs three round trips, not one per object.
        let written = join_all(group.into_iter().map(|m| async move {
            let answer = if created && m.kind == Kind::Deployment && spec.autoscale.enabled {
                // Start at the autoscaling floor rather than Kubernetes' default of one pod,
                // in the same write, so the controller makes every pod at once; the create's
                // end hands the count to the autoscaler's side (see `replicas`).
                let mut object = m.object.clone();
                object["spec"]["replicas"] = spec.autoscale.min_replicas.into();
                cluster.apply(&object_ref(m), &object).await
            } else {
                cluster.apply(&object_ref(m), &m.object).await
            };
            answer.map(|o| (m.kind, o))
        }))
        .await;
        for w in written {
            let (kind, object) = w.map_err(write)?;
            if kind == Kind::Deployment {
                deployment = serde_json::from_value(object).ok();
            }
        }
    }
    // Prune deletes only objects with this app's mark that it no longer renders; a created
    // app's mark is new, so the only objects carrying it are the ones just written.
    let pruned = if created {
        Vec::new()
    } else {
        cluster
            .prune(
                app_types(),
                Some(&spec.namespace),
                &bundle::app_label_selector(&spec.name),
                &object_refs(manifests),
                Propagation::Foreground,
                OWNER_ANNOTATION,
                |mark| owner::owns(mark, Some(owner)),
            )
            .await
            .map_err(|e| (Stage::Prune, e))?
    };
    if !pruned.is_empty() {
        let pruned: Vec<String> = pruned.iter().map(ObjectRef::describe).collect();
        tracing::info!(app = %spec.id(), ?pruned, "deleted objects the app no longer has");
    }
    if !spec.rollout.wait {
        return Ok(None);
    }
    let timeout = parse_duration(&spec.rollout.timeout).unwrap_or(Duration::from_secs(300));
    let rolled_out = match deployment {
        Some(written) => {
            cluster
                .wait_for_rollout_from(&spec.namespace, &spec.name, written, timeout, stop)
                .await
        }
        None => {
            cluster
                .wait_for_rollout(&spec.namespace, &spec.name, timeout, stop)
                .await
        }
    }
    .map_err(|e| (Stage::Rollout, e))?;
    Ok(serde_json::to_value(rolled_out).ok())
}

/// The end of a create, which returns to Terraform now and so records the owner mark: the
/// Deployment's pending mark comes off, and an autoscaled count goes to the autoscaler's side
/// (see [`owner::finish_create`]), in one write guarded by the version it was computed from.
/// `rolled_out` is the Deployment as the rollout wait last saw it; without it, it is read.
/// Best effort: every later apply writes the Deployment without the mark and hands the count
/// over anyway.
pub(super) async fn finish_create(
    cluster: &Cluster,
    spec: &Spec,
    manifests: &[Manifest],
    rolled_out: Option<serde_json::Value>,
    policy: &Policy<'_>,
) {
    let Some(d) = manifests.iter().find(|m| m.kind == Kind::Deployment) else {
        return;
    };
    let r = object_ref(d);
    let live = match rolled_out {
        Some(live) => Ok(Some(live)),
        None => cluster.get(&r).await,
    };
    let finish = |live: &serde_json::Value| {
        owner::finish_create(live, policy.own_manager, spec.autoscale.enabled)
    };
    let done = match live {
        Ok(Some(live)) => cluster.rewrite_metadata(&r, live, finish).await,
        Ok(None) => Ok(false),
        Err(e) => Err(e),
    };
    if let Err(e) = done {
        tracing::warn!(app = %spec.id(), error = %e, "could not finish the create (clear the pending-create mark)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_namespace_then_what_pods_use_then_the_rest() {
        let m = |k| Manifest::of(k, "web", Some("shop"), &serde_json::Value::Null);
        let manifests: Vec<Manifest> = [
            Kind::Namespace,
            Kind::ServiceAccount,
            Kind::Secret,
            Kind::Deployment,
            Kind::Service,
            Kind::HorizontalPodAutoscaler,
            Kind::PodDisruptionBudget,
        ]
        .into_iter()
        .map(m)
        .collect();
        let kinds = |ms: &[Manifest]| -> Vec<Vec<Kind>> {
            write_order(ms)
                .iter()
                .map(|g| g.iter().map(|m| m.kind).collect())
                .collect()
        };
        assert_eq!(
            kinds(&manifests),
            vec![
                vec![Kind::Namespace],
                vec![Kind::ServiceAccount, Kind::Secret],
                vec![
                    Kind::Deployment,
                    Kind::Service,
                    Kind::HorizontalPodAutoscaler,
                    Kind::PodDisruptionBudget
                ],
            ]
        );
        // No namespace, no secret: no empty group.
        assert_eq!(
            kinds(&[m(Kind::ServiceAccount), m(Kind::Deployment)]),
            vec![vec![Kind::ServiceAccount], vec![Kind::Deployment]]
        );
    }
}
