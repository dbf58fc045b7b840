//! Destroy: delete the app's objects that carry its owner mark (and leftovers of an
//! interrupted apply found by its labels), then wait until they and the Deployment's pods
//! are gone; objects another owner has stay, with a warning.

use super::{app_types, plan, workload_dependents};
use crate::app::application::bundle;
use crate::app::application::owner::{self, OWNER_ANNOTATION};
use crate::app::object::{Kind, Manifest};
use crate::kube::{Cluster, KubeError, ObjectRef, Propagation};
use crate::plugin::{ApplyResponse, Diagnostic, Value};
use crate::resources::cluster_error::diagnostic as kube_diag;
use crate::resources::objects::object_refs;
use std::time::Duration;

pub(super) async fn destroy(cluster: &Cluster, prior_state: &Value) -> ApplyResponse {
    let (spec, _) = match plan::decode_state(prior_state) {
        Ok(x) => x,
        Err(d) => {
            return ApplyResponse {
                diagnostics: d,
                ..ApplyResponse::default()
            };
        }
    };
    let owner = plan::owner_of(prior_state);
    let failed = |e: &KubeError| ApplyResponse {
        new_state: prior_state.clone(),
        diagnostics: kube_diag(e, &format!("Deleting {}", spec.id())).into(),
        ..ApplyResponse::default()
    };
    let manifests: Vec<Manifest> = bundle::render(&spec)
        .into_iter()
        .filter(|m| m.kind != Kind::Namespace)
        .collect();
    // The app's objects that exist, and everything labelled as the app's (objects from an
    // interrupted apply too): only those with the app's own mark go.
    let rendered = object_refs(&manifests);
    let live = match cluster.get_all(&rendered).await {
        Ok(l) => l,
        Err(e) => return failed(&e),
    };
    let mut targets: Vec<ObjectRef> = Vec::new();
    let mut left: Vec<String> = Vec::new();
    for (r, l) in rendered.into_iter().zip(live) {
        match l {
            Some(l) if owner::owns(owner::mark_of(&l), owner.as_deref()) => targets.push(r),
            Some(l) => left.push(format!(
                "{} (managed by {})",
                r.describe(),
                owner::managed_by(&l)
            )),
            None => {}
        }
    }
    let selector = bundle::app_label_selector(&spec.name);
    match cluster
        .list_annotated(
            app_types(),
            Some(&spec.namespace),
            &selector,
            OWNER_ANNOTATION,
        )
        .await
    {
        Ok(found) => {
            for (f, mark) in found {
                if owner::owns(mark.as_deref(), owner.as_deref()) && !targets.contains(&f) {
                    targets.push(f);
                }
            }
        }
        Err(e) => return failed(&e),
    }
    let grace = Duration::from_secs(spec.termination_grace_period.max(0) as u64 + 120);
    let deletes_workload = targets.iter().any(|t| t.ty.kind == "Deployment");
    // The Deployment goes at once and the garbage collector takes its ReplicaSets and pods;
    // destroy returns when those are gone too. Waiting on them directly is faster than a
    // foreground deletion, whose finalizers the collector clears one level at a time. Pods
    // of another owner's Deployment with the same labels are not waited for.
    let gone = match cluster
        .delete_and_wait(&targets, Propagation::Background, grace)
        .await
    {
        Ok(()) if deletes_workload => {
            cluster
                .wait_none(workload_dependents(), &spec.namespace, &selector, grace)
                .await
        }
        other => other,
    };
    match gone {
        Ok(()) if left.is_empty() => ApplyResponse::default(),
        Ok(()) => {
            tracing::info!(app = %spec.id(), ?left, "left objects another owner has");
            ApplyResponse {
                diagnostics: Diagnostic::warning(
                    format!("Objects of {} left in place", spec.id()),
                    format!(
                        "{} {} not this app's (they lack its owner mark{}), so destroy left {} in place.",
                        left.join(", "),
                        if left.len() == 1 { "is" } else { "are" },
                        owner.as_deref().map_or(String::new(), |o| format!(" {o:?}")),
                        if left.len() == 1 { "it" } else { "them" }
                    ),
                )
                .into(),
                ..ApplyResponse::default()
            }
        }
        Err(e) => failed(&e),
    }
}
