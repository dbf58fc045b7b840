//! Fields someone else wrote into an object the provider renders, found from the object's
//! managed fields: which are drift, which are the cluster doing its job, which the platform
//! said to leave alone (`defaults.drift.ignore`), and how apply takes them over so that its
//! next server-side apply removes them (server-side apply never removes a field another
//! manager still owns). Pure: no I/O.

use super::managed_fields::{
    self as mf, Entry, Leaf, Path, Step, add_leaf, display, leaves, lookup, owns, present_prefix,
    project, remove_leaf, subset,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// Field managers whose writes are the cluster's own work and never drift, each with why.
/// Writes through a subresource (`status`, `scale`) are never drift either: the autoscaler,
/// `kubectl scale` and every controller's status go through them.
pub const SYSTEM_MANAGERS: [(&str, &str); 4] = [
    (
        "kube-controller-manager",
        "the Deployment, ReplicaSet, autoscaler and garbage-collector controllers: revision annotations, replica counts and owner bookkeeping",
    ),
    (
        "kube-apiserver",
        "what the API server records itself (allocations, bookkeeping on create); its defaulting is not owned by anyone",
    ),
    (
        "before-first-apply",
        "the fields an object had before managed fields were tracked for it; nobody can tell who wrote them",
    ),
    (
        "cloud-controller-manager",
        "load balancer bookkeeping on LoadBalancer Services",
    ),
];

/// Annotation prefixes controllers and kubectl write on objects and pod templates
/// (`kubectl rollout restart`, `jke restart`, the Deployment revision, kubectl's
/// last-applied copy): operations, not configuration.
pub const SYSTEM_ANNOTATION_PREFIXES: [&str; 3] = [
    "kubectl.kubernetes.io/",
    "deployment.kubernetes.io/",
    "autoscaling.alpha.kubernetes.io/",
];

/// Fields nobody's write makes drift, whoever owns them.
fn system_field(path: &[Step]) -> bool {
    let f = |s: &Step, name: &str| *s == Step::Field(name.to_string());
    let annotation = |p: &[Step]| match p {
        [m, a, Step::Field(key), ..] if f(m, "metadata") && f(a, "annotations") => {
            SYSTEM_ANNOTATION_PREFIXES
                .iter()
                .any(|x| key.starts_with(x))
        }
        // The map itself (its `.` in managedFields, owned by whoever added its first key,
        // e.g. a restart stamping an app without pod annotations): each key is judged alone.
        [m, a] if f(m, "metadata") && (f(a, "annotations") || f(a, "labels")) => true,
        _ => false,
    };
    match path {
        // Written through the status subresource; not configuration.
        [s, ..] if f(s, "status") => true,
        // Controllers hold deletion with finalizers (foreground deletion, load balancer
        // controllers); removing one would skip their clean-up.
        [m, fin, ..] if f(m, "metadata") && f(fin, "finalizers") => true,
        // Owner references are set by controllers (and the garbage collector reads them).
        [m, o, ..] if f(m, "metadata") && f(o, "ownerReferences") => true,
        [s, t, rest @ ..] if f(s, "spec") && f(t, "template") => annotation(rest),
        _ => annotation(path),
    }
}

/// One `defaults.drift.ignore` rule: fields written by `manager`, or at or below `path`
/// (`spec.template.metadata.annotations`, `spec.template.spec.containers[name=istio-proxy]`),
/// or both when both are set. Matching fields are neither drift nor removed by apply.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IgnoreRule {
    pub manager: Option<String>,
    pub path: Option<String>,
}

/// Whether `path` is `prefix` or lies below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

impl IgnoreRule {
    fn matches_path(&self, path: &str) -> bool {
        self.path.as_deref().is_none_or(|p| under(path, p))
    }

    fn matches(&self, manager: &str, path: &str) -> bool {
        self.manager.as_deref().is_none_or(|m| m == manager) && self.matches_path(path)
    }
}

/// Who the provider is and what the platform said to leave alone.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    /// The provider's own field manager (`jke` unless the provider block says otherwise).
    pub own_manager: &'a str,
    pub ignore: &'a [IgnoreRule],
}

impl Policy<'_> {
    fn foreign(&self, e: &Entry) -> bool {
        e.manager != self.own_manager
            && e.subresource.is_empty()
            && !SYSTEM_MANAGERS.iter().any(|(m, _)| *m == e.manager)
    }

    fn ignored(&self, manager: &str, path: &str) -> bool {
        self.ignore.iter().any(|r| r.matches(manager, path))
    }

    /// Whether a difference at `path` between the rendered and the live object is left
    /// alone: the path is ignored, or a manager an ignore rule names owns it.
    pub fn ignores_difference(&self, live: &Json, path: &[Step]) -> bool {
        let shown = display(path);
        self.ignore.iter().any(|r| match &r.manager {
            None => r.matches_path(&shown),
            Some(m) => {
                r.matches_path(&shown)
                    && mf::entries(live)
                        .iter()
                        .any(|e| &e.manager == m && owns(&e.fields, path))
            }
        })
    }
}

/// The managers other than the provider that own `path` in `live` (who changed a field the
/// provider sets).
pub fn owners(live: &Json, path: &[Step], policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = mf::entries(live)
        .into_iter()
        .filter(|e| e.manager != policy.own_manager && owns(&e.fields, path))
        .map(|e| e.manager)
        .collect();
    out.dedup();
    out
}

/// `live` without the fields `policy` ignores that `rendered` lacks (a sidecar, an env
/// entry an injector adds), so that reading attributes back from it does not take them for
/// the app's own.
pub fn without_ignored(live: &Json, rendered: &Json, policy: &Policy) -> Json {
    let mut out = live.clone();
    let Some(list) = live["metadata"]["managedFields"].as_array() else {
        return out;
    };
    for entry in list
        .iter()
        .filter_map(mf::entry)
        .filter(|e| policy.foreign(e))
    {
        for leaf in leaves(&entry.fields) {
            if !policy.ignored(&entry.manager, &display(&leaf.path)) {
                continue;
            }
            let have = present_prefix(rendered, &leaf.path);
            if have < leaf.path.len() {
                remove_at(&mut out, &leaf.path[..=have]);
            }
        }
    }
    out
}

/// Remove the value at `path` (a field, or a list item found by key).
fn remove_at(v: &mut Json, path: &[Step]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = v;
    for s in parents {
        let next = match (s, at) {
            (Step::Field(f), Json::Object(m)) => m.get_mut(f),
            (s, Json::Array(items)) => items.iter_mut().find(|i| matches_step(i, s)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return,
        }
    }
    match (last, at) {
        (Step::Field(f), Json::Object(m)) => {
            m.remove(f);
        }
        (s, Json::Array(items)) => {
            if let Some(i) = items.iter().position(|i| matches_step(i, s)) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

fn matches_step(item: &Json, s: &Step) -> bool {
    match s {
        Step::Key(k) => mf::item_has_key(item, k),
        Step::Value(x) => item == x,
        _ => false,
    }
}

/// A field someone else owns that the rendered object does not have.
struct Found {
    entry: Entry,
    /// Index of the entry in `metadata.managedFields`.
    index: usize,
    leaf: Leaf,
    /// Steps down to the field or list item added (the rendered object lacks its first
    /// step from the one it lacks on).
    added: usize,
}

fn find(live: &Json, rendered: &Json, policy: &Policy) -> Vec<Found> {
    let mut out = Vec::new();
    let Some(list) = live["metadata"]["managedFields"].as_array() else {
        return out;
    };
    for (index, raw) in list.iter().enumerate() {
        let Some(entry) = mf::entry(raw).filter(|e| policy.foreign(e)) else {
            continue;
        };
        for leaf in leaves(&entry.fields) {
            if system_field(&leaf.path) || policy.ignored(&entry.manager, &display(&leaf.path)) {
                continue;
            }
            let have = present_prefix(rendered, &leaf.path);
            if have == leaf.path.len() {
                // The provider sets this field too: compared by value, and taken back by
                // the next apply (which forces its values).
                continue;
            }
            // Report a whole list item at once (an added container, volume or port), and
            // any other field by itself (one label, one annotation).
            let added = leaf.path[have..]
                .iter()
                .position(|s| !matches!(s, Step::Field(_)))
                .map_or(leaf.path.len(), |i| have + i + 1);
            out.push(Found {
                entry: entry.clone(),
                index,
                leaf,
                added,
            });
        }
    }
    out
}

fn shown(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Fields other managers added to `live` that `rendered` lacks: path -> `value (set by
/// manager)`, one entry per added field or list item (its value cut down to what the
/// manager wrote).
pub fn drift(live: &Json, rendered: &Json, policy: &Policy) -> BTreeMap<String, String> {
    let mut by_path: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for f in find(live, rendered, policy) {
        let node: Path = f.leaf.path[..f.added].to_vec();
        let Some(value) = lookup(live, &node) else {
            continue;
        };
        let owned = subset(&f.entry.fields, &f.leaf.raw[..f.added]).cloned();
        let value = match owned {
            Some(set) => project(value, &set),
            None => value.clone(),
        };
        let e = by_path
            .entry(display(&node))
            .or_insert_with(|| (shown(&value), Vec::new()));
        if !e.1.contains(&f.entry.manager) {
            e.1.push(f.entry.manager.clone());
        }
    }
    by_path
        .into_iter()
        .map(|(p, (v, managers))| (p, format!("{v} (set by {})", managers.join(", "))))
        .collect()
}

/// The `metadata.managedFields` to write before applying `rendered`, so that the apply
/// removes every field other managers added: each such field moves from its manager's entry
/// to the provider's own Apply entry, whose next apply no longer has it. `None` when there
/// is nothing to take. From an entry made in another API version (an autoscaling/v1 apply
/// to the HPA) only `metadata` fields are taken: their paths are the same in every version,
/// while its other paths are that version's (and the HPA's v1 spec fields all map onto
/// fields JKE renders and forces anyway).
pub fn take_over(live: &Json, rendered: &Json, policy: &Policy) -> Option<Json> {
    let api_version = live["apiVersion"].as_str().unwrap_or_default();
    let metadata = Step::Field("metadata".to_string());
    let found: Vec<Found> = find(live, rendered, policy)
        .into_iter()
        .filter(|f| f.entry.api_version == api_version || f.leaf.path.first() == Some(&metadata))
        .collect();
    if found.is_empty() {
        return None;
    }
    let mut list = live["metadata"]["managedFields"].as_array()?.clone();
    let own = list.iter().position(|raw| {
        mf::entry(raw).is_some_and(|e| {
            e.manager == policy.own_manager && e.operation == "Apply" && e.subresource.is_empty()
        })
    });
    let own = match own {
        Some(i) => i,
        None => {
            list.push(serde_json::json!({
                "manager": policy.own_manager,
                "operation": "Apply",
                "apiVersion": api_version,
                "fieldsType": "FieldsV1",
                "fieldsV1": {},
            }));
            list.len() - 1
        }
    };
    for f in &found {
        if let Some(fields) = list[f.index].get_mut("fieldsV1") {
            remove_leaf(fields, &f.leaf.raw);
        }
        if let Some(obj) = list[own].as_object_mut() {
            let fields = obj
                .entry("fieldsV1")
                .or_insert_with(|| Json::Object(Map::new()));
            add_leaf(fields, &f.leaf.raw);
        }
    }
    // An entry left with nothing owns nothing: drop it.
    let emptied: Vec<usize> = found.iter().map(|f| f.index).collect();
    let list: Vec<Json> = list
        .into_iter()
        .enumerate()
        .filter(|(i, raw)| {
            !(emptied.contains(i) && raw["fieldsV1"].as_object().is_none_or(Map::is_empty))
        })
        .map(|(_, raw)| raw)
        .collect();
    Some(Json::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered() -> Json {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "web", "image": "nginx", "securityContext": {"privileged": false},
             "env": [{"name": "A", "value": "1"}]}
        ]}}}})
    }

    /// The rendered object after `kubectl edit` (manager `kubectl-edit`) added a sidecar,
    /// hostNetwork and an env entry, changed privileged, and a restart stamped the template.
    fn live() -> Json {
        let mut l = rendered();
        l["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
        l["spec"]["template"]["spec"]["containers"] = json!([
            {"name": "sidecar", "image": "proxy", "imagePullPolicy": "Always"},
            {"name": "web", "image": "nginx", "securityContext": {"privileged": true},
             "env": [{"name": "DEBUG", "value": "1"}, {"name": "A", "value": "1"}]}
        ]);
        l["spec"]["template"]["metadata"]["annotations"] =
            json!({"kubectl.kubernetes.io/restartedAt": "now"});
        l["status"] = json!({"replicas": 2});
        l["metadata"]["managedFields"] = json!([
            {"manager": "jke", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:template": {"f:spec": {"f:containers": {
                 "k:{\"name\":\"web\"}": {".": {}, "f:name": {}, "f:image": {}}}}}}}},
            {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:hostNetwork": {}, "f:containers": {
                 "k:{\"name\":\"sidecar\"}": {".": {}, "f:name": {}, "f:image": {}},
                 "k:{\"name\":\"web\"}": {"f:securityContext": {"f:privileged": {}},
                     "f:env": {"k:{\"name\":\"DEBUG\"}": {".": {}, "f:name": {}, "f:value": {}}}}}}}}}},
            {"manager": "kubectl-rollout", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:template": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/restartedAt": {}}}}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1", "subresource": "status",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:replicas": {}}}},
            {"manager": "hpa", "operation": "Update", "apiVersion": "apps/v1", "subresource": "scale",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
        ]);
        l
    }

    const POLICY: Policy = Policy {
        own_manager: "jke",
        ignore: &[],
    };

    #[test]
    fn added_fields_and_items_are_drift_with_their_value_and_manager() {
        let d = drift(&live(), &rendered(), &POLICY);
        let want: BTreeMap<String, String> = [
            (
                "spec.template.spec.containers[name=sidecar]",
                r#"{"image":"proxy","name":"sidecar"} (set by kubectl-edit)"#,
            ),
            (
                "spec.template.spec.containers[name=web].env[name=DEBUG]",
                r#"{"name":"DEBUG","value":"1"} (set by kubectl-edit)"#,
            ),
            (
                "spec.template.spec.hostNetwork",
                "true (set by kubectl-edit)",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // privileged is a field JKE sets (compared by value); the restart stamp, status and
        // the scale write are not drift.
        assert_eq!(d, want);
    }

    #[test]
    fn ignore_rules_by_manager_or_path_leave_fields_alone() {
        let by_manager = [IgnoreRule {
            manager: Some("kubectl-edit".into()),
            path: None,
        }];
        let p = Policy {
            own_manager: "jke",
            ignore: &by_manager,
        };
        assert!(drift(&live(), &rendered(), &p).is_empty());
        assert_eq!(take_over(&live(), &rendered(), &p), None);
        let privileged = mf::leaves(
            &json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {"f:securityContext": {"f:privileged": {}}}}}}}}),
        )
        .remove(0)
        .path;
        assert!(p.ignores_difference(&live(), &privileged));
        assert!(!POLICY.ignores_difference(&live(), &privileged));

        let by_path = [IgnoreRule {
            manager: None,
            path: Some("spec.template.spec.containers".into()),
        }];
        let p = Policy {
            own_manager: "jke",
            ignore: &by_path,
        };
        let d = drift(&live(), &rendered(), &p);
        assert_eq!(
            d.keys().collect::<Vec<_>>(),
            vec!["spec.template.spec.hostNetwork"]
        );
        let both = [IgnoreRule {
            manager: Some("someone-else".into()),
            path: Some("spec.template.spec.hostNetwork".into()),
        }];
        let p = Policy {
            own_manager: "jke",
            ignore: &both,
        };
        assert_eq!(drift(&live(), &rendered(), &p).len(), 3);
        assert!(!under(
            "spec.template.spec.hostNetworkX",
            "spec.template.spec.hostNetwork"
        ));
    }

    #[test]
    fn ignored_additions_are_left_out_of_the_live_object_and_changes_name_their_owner() {
        let rule = [IgnoreRule {
            manager: Some("kubectl-edit".into()),
            path: None,
        }];
        let p = Policy {
            own_manager: "jke",
            ignore: &rule,
        };
        let l = without_ignored(&live(), &rendered(), &p);
        let containers = &l["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().map(Vec::len), Some(1), "{containers}");
        assert_eq!(containers[0]["env"], json!([{"name": "A", "value": "1"}]));
        assert_eq!(
            containers[0]["securityContext"]["privileged"],
            json!(true),
            "a changed field stays"
        );
        assert!(l["spec"]["template"]["spec"].get("hostNetwork").is_none());
        let privileged = mf::leaves(
            &json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"web\"}": {"f:securityContext": {"f:privileged": {}}}}}}}}),
        )
        .remove(0)
        .path;
        assert_eq!(
            owners(&live(), &privileged, &POLICY),
            vec!["kubectl-edit".to_string()]
        );
    }

    #[test]
    fn take_over_moves_the_added_fields_to_the_providers_apply_entry() {
        let Some(mfs) = take_over(&live(), &rendered(), &POLICY) else {
            panic!("there are fields to take over");
        };
        let mut taken = live();
        taken["metadata"]["managedFields"] = mfs;
        let by = |m: &str| {
            mf::entries(&taken)
                .into_iter()
                .find(|e| e.manager == m)
                .map(|e| e.fields)
                .unwrap_or_default()
        };
        let jke = by("jke");
        for p in [
            "spec.template.spec.hostNetwork",
            "spec.template.spec.containers[name=sidecar]",
            "spec.template.spec.containers[name=web].env[name=DEBUG].value",
        ] {
            assert!(
                mf::leaves(&jke).iter().any(|l| display(&l.path) == p),
                "{p} is the provider's now"
            );
        }
        // What stays the editor's: the field JKE sets (its next apply forces it back).
        assert_eq!(
            by("kubectl-edit"),
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {"f:securityContext": {"f:privileged": {}}}}}}}})
        );
        assert_eq!(drift(&taken, &rendered(), &POLICY), BTreeMap::new());
        assert_eq!(take_over(&taken, &rendered(), &POLICY), None);
        assert_eq!(mf::entries(&taken).len(), 5, "the other entries are kept");
    }

    #[test]
    fn metadata_applied_in_another_api_version_is_taken_over_and_its_spec_left() {
        let rendered = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"maxReplicas": 5}});
        let mut live = rendered.clone();
        live["metadata"]["labels"]["team"] = json!("other");
        live["metadata"]["managedFields"] = json!([
            {"manager": "jke", "operation": "Apply", "apiVersion": "autoscaling/v2", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:maxReplicas": {}}}},
            {"manager": "other-tool", "operation": "Apply", "apiVersion": "autoscaling/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}, "f:spec": {"f:targetCPUUtilizationPercentage": {}}}}
        ]);
        let Some(mfs) = take_over(&live, &rendered, &POLICY) else {
            panic!("the label is to be taken over");
        };
        assert_eq!(
            mfs,
            json!([
                {"manager": "jke", "operation": "Apply", "apiVersion": "autoscaling/v2", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}, "f:team": {}}}, "f:spec": {"f:maxReplicas": {}}}},
                {"manager": "other-tool", "operation": "Apply", "apiVersion": "autoscaling/v1", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:targetCPUUtilizationPercentage": {}}}}
            ])
        );
    }

    #[test]
    fn an_object_without_an_apply_entry_gets_one() {
        let mut l = live();
        l["metadata"]["managedFields"] = json!([{"manager": "kubectl-create", "operation": "Update",
            "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:hostNetwork": {}}}}}}]);
        let Some(mfs) = take_over(&l, &rendered(), &POLICY) else {
            panic!("hostNetwork is to be taken over");
        };
        assert_eq!(
            mfs,
            json!([{"manager": "jke", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:hostNetwork": {}}}}}}])
        );
    }
}
