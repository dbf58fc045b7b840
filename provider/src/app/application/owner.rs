//! One owner per object: every object an app writes carries its owner mark, the annotation
//! [`OWNER_ANNOTATION`] with an id the provider generates when it creates the app and keeps
//! in state (`owner_id`). Two configurations (or states) that declare the same app, or an
//! app whose objects collide with another tool's, are told apart by it: an app writes only
//! objects that are absent, already carry its own mark, or (when adopting) carry none; and
//! deletes only objects that carry its own mark.

use super::replicas;
use crate::app::managed_fields::{EntryKey, take_leaf};
use crate::app::object::{Kind, Manifest};
use serde_json::Value as Json;

/// The annotation with the owner's id on every object of an app (not the shared namespace).
pub const OWNER_ANNOTATION: &str = "jke.dev/owner";

/// On the Deployment while the create that made the app has not returned to Terraform: a
/// create interrupted before it could (provider killed, connection lost) leaves its mark in
/// no state, and the next create of the same app takes those objects over. A label, not an
/// annotation: a Deployment's annotations are copied to its ReplicaSets, and changing them
/// bumps its generation, so taking the mark off would make the controllers write both again.
pub const PENDING_LABEL: &str = "jke.dev/create-pending";

/// The owner mark of a live object, if it has one.
pub fn mark_of(object: &Json) -> Option<&str> {
    object["metadata"]["annotations"][OWNER_ANNOTATION].as_str()
}

/// Write `owner` into the metadata of every manifest but the namespace (which apps share).
pub fn mark(manifests: &mut [Manifest], owner: &str) {
    for m in manifests.iter_mut().filter(|m| m.kind != Kind::Namespace) {
        if let Some(meta) = m.object.get_mut("metadata").and_then(Json::as_object_mut) {
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| Json::Object(Default::default()));
            if !annotations.is_object() {
                *annotations = Json::Object(Default::default());
            }
            annotations[OWNER_ANNOTATION] = Json::String(owner.to_string());
        }
    }
}

/// An object this app may not write: which one, and who has it.
#[derive(Clone, Debug, PartialEq)]
pub struct Foreign {
    /// `Kind/namespace/name`.
    pub object: String,
    /// Who has it, for a person: another app's mark, or the tools that wrote it.
    pub managed_by: String,
    /// It carries another app's mark (rather than none).
    pub marked: bool,
}

/// Who wrote `live`, from its mark, its `app.kubernetes.io/managed-by` label and the field
/// managers the API server records.
pub fn managed_by(live: &Json) -> String {
    if let Some(m) = mark_of(live) {
        return format!("another jke_application (owner id {m:?})");
    }
    let mut who: Vec<String> = Vec::new();
    if let Some(l) = live["metadata"]["labels"]["app.kubernetes.io/managed-by"].as_str() {
        who.push(l.to_string());
    }
    for f in live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
    {
        // Controllers that only write the status (the controller manager) made nothing.
        if f["subresource"].as_str() == Some("status") {
            continue;
        }
        if let Some(m) = f["manager"].as_str()
            && !who.iter().any(|w| w == m)
        {
            who.push(m.to_string());
        }
    }
    match who.as_slice() {
        [] => "another tool (it has no JKE owner mark)".to_string(),
        _ => format!(
            "{} (it has no JKE owner mark)",
            who.iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Mark the app's Deployment as not yet created (see [`PENDING_LABEL`]).
pub fn mark_pending(manifests: &mut [Manifest]) {
    for m in manifests.iter_mut().filter(|m| m.kind == Kind::Deployment) {
        if let Some(l) = m.object["metadata"]["labels"].as_object_mut() {
            l.insert(PENDING_LABEL.into(), Json::String("true".into()));
        }
    }
}

/// Whether the Deployment carries the pending mark.
fn pending(deployment: &Json) -> bool {
    deployment["metadata"]["labels"]
        .get(PENDING_LABEL)
        .is_some()
}

/// Whether `mark` is that of a create that never returned to Terraform, judged by the
/// app's live Deployment: absent (the create stopped before it), or still pending.
pub fn unfinished(mark: &str, deployment: Option<&Json>) -> bool {
    match deployment {
        None => true,
        Some(d) => mark_of(d) != Some(mark) || pending(d),
    }
}

/// What to merge into the app's Deployment's metadata when its create has returned to
/// Terraform: the pending mark off (out of the provider's apply entry too), and, when
/// `autoscaled`, `spec.replicas` handed to the autoscaler's side (see [`replicas`]). `None`
/// when neither is left to do.
pub fn finish_create(deployment: &Json, own_manager: &str, autoscaled: bool) -> Option<Json> {
    let mut list = deployment["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let apply = EntryKey {
        manager: own_manager,
        operation: "Apply",
        subresource: "",
    };
    let leaf = [
        "f:metadata".to_string(),
        "f:labels".to_string(),
        format!("f:{PENDING_LABEL}"),
    ];
    let mut moved = take_leaf(&mut list, apply, &leaf);
    if autoscaled {
        moved |= replicas::hand_to_scale(&mut list, own_manager);
    }
    let pending = pending(deployment);
    if !pending && !moved {
        return None;
    }
    let mut metadata = serde_json::json!({ "managedFields": list });
    if pending {
        metadata["labels"] = serde_json::json!({ PENDING_LABEL: null });
    }
    Some(metadata)
}

/// Whether this app (id `ours`) may write over `live` (None: absent). Objects without a
/// mark are taken only when `adopt_unmarked` (an app in state from before owner marks, an
/// imported app, or an object this app wrote before).
pub fn may_write(
    object: &str,
    live: Option<&Json>,
    ours: &str,
    adopt_unmarked: bool,
) -> Result<(), Foreign> {
    let Some(live) = live else { return Ok(()) };
    match mark_of(live) {
        Some(m) if m == ours => Ok(()),
        None if adopt_unmarked => Ok(()),
        mark => Err(Foreign {
            object: object.to_string(),
            managed_by: managed_by(live),
            marked: mark.is_some(),
        }),
    }
}

/// Whether an object with `mark` is this app's (id `ours`; None: an app in state from
/// before owner marks, which owns only objects without one). Destroy and prune delete
/// nothing else.
pub fn owns(mark: Option<&str>, ours: Option<&str>) -> bool {
    mark == ours
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(mark: Option<&str>) -> Json {
        let mut o = json!({"metadata": {"name": "web", "managedFields": [
            {"manager": "kubectl-create"},
            {"manager": "kube-controller-manager", "subresource": "status"},
        ]}});
        if let Some(m) = mark {
            o["metadata"]["annotations"] = json!({ OWNER_ANNOTATION: m });
        }
        o
    }

    #[test]
    fn an_app_writes_absent_objects_its_own_and_adopted_ones_only() {
        let d = "Deployment/shop/web";
        assert_eq!(may_write(d, None, "a1", false), Ok(()));
        assert_eq!(may_write(d, Some(&live(Some("a1"))), "a1", false), Ok(()));
        assert_eq!(may_write(d, Some(&live(None)), "a1", true), Ok(()));
        let other = may_write(d, Some(&live(Some("b2"))), "a1", true).unwrap_err();
        assert!(
            other.marked && other.managed_by.contains("\"b2\""),
            "{other:?}"
        );
        let unmarked = may_write(d, Some(&live(None)), "a1", false).unwrap_err();
        assert_eq!(
            unmarked.managed_by,
            "\"kubectl-create\" (it has no JKE owner mark)"
        );
        assert!(!unmarked.marked);
    }

    #[test]
    fn leftovers_of_a_create_that_never_returned_are_recognised() {
        let mut d = live(Some("x9"));
        assert!(
            unfinished("x9", None),
            "no Deployment: the create stopped before it"
        );
        assert!(!unfinished("x9", Some(&d)), "a finished app");
        d["metadata"]["labels"] = json!({ PENDING_LABEL: "true" });
        assert!(unfinished("x9", Some(&d)));
        let mut ms = vec![Manifest::of(
            Kind::Deployment,
            "web",
            Some("shop"),
            &json!({"metadata": {"name": "web", "labels": {"app": "web"}}}),
        )];
        mark(&mut ms, "a1");
        mark_pending(&mut ms);
        assert_eq!(ms[0].object["metadata"]["labels"][PENDING_LABEL], "true");
    }

    #[test]
    fn only_objects_with_the_apps_own_mark_are_its_to_delete() {
        assert!(owns(Some("a1"), Some("a1")));
        assert!(!owns(Some("b2"), Some("a1")));
        assert!(!owns(None, Some("a1")));
        assert!(owns(None, None));
        assert!(!owns(Some("b2"), None));
    }

    #[test]
    fn the_mark_goes_on_every_object_but_the_namespace() {
        let mut ms = vec![
            Manifest::of(
                Kind::Namespace,
                "shop",
                None,
                &json!({"metadata": {"name": "shop"}}),
            ),
            Manifest::of(
                Kind::Service,
                "web",
                Some("shop"),
                &json!({"metadata": {"name": "web", "annotations": {"a": "b"}}}),
            ),
            Manifest::of(
                Kind::Deployment,
                "web",
                Some("shop"),
                &json!({"metadata": {"name": "web"}}),
            ),
        ];
        mark(&mut ms, "a1");
        assert_eq!(mark_of(&ms[0].object), None);
        assert_eq!(mark_of(&ms[1].object), Some("a1"));
        assert_eq!(ms[1].object["metadata"]["annotations"]["a"], "b");
        assert_eq!(mark_of(&ms[2].object), Some("a1"));
    }

    #[test]
    fn a_finished_create_drops_its_pending_mark_and_leaves_the_count_to_the_autoscaler() {
        let mut d = live(Some("a1"));
        d["metadata"]["labels"] = json!({"app": "web", PENDING_LABEL: "true"});
        d["metadata"]["managedFields"] = json!([
            {"manager": "jke", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:annotations": {"f:jke.dev/owner": {}},
                                         "f:labels": {"f:app": {}, "f:jke.dev/create-pending": {}}},
                          "f:spec": {"f:replicas": {}, "f:template": {}}}}
        ]);
        let m = finish_create(&d, "jke", true).expect("something to do");
        assert_eq!(m["labels"], json!({PENDING_LABEL: null}));
        assert!(m.get("annotations").is_none());
        assert_eq!(
            m["managedFields"][0]["fieldsV1"],
            json!({"f:metadata": {"f:annotations": {"f:jke.dev/owner": {}}, "f:labels": {"f:app": {}}},
                   "f:spec": {"f:template": {}}})
        );
        assert_eq!(m["managedFields"][1]["subresource"], "scale");
        assert_eq!(
            m["managedFields"][1]["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}})
        );
        // A fixed count stays the provider's to apply.
        let fixed = finish_create(&d, "jke", false).expect("the mark to drop");
        assert_eq!(fixed["managedFields"].as_array().map(Vec::len), Some(1));
        assert!(fixed["managedFields"][0]["fieldsV1"]["f:spec"]["f:replicas"].is_object());
        // Done already (the patch went through and its answer was lost): nothing to write.
        let mut done = d.clone();
        done["metadata"]["labels"] = json!({"app": "web"});
        done["metadata"]["managedFields"] = m["managedFields"].clone();
        assert_eq!(finish_create(&done, "jke", true), None);
    }
}
