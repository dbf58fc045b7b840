//! An object's `metadata.managedFields`: which field manager set which field.
//!
//! Each entry's `fieldsV1` is a tree whose keys name one step each: `f:<field>` a field of an
//! object, `k:{"name":"web"}` the item of a keyed list whose key fields have these values,
//! `v:<json>` an item of a set-like list, `i:<n>` a list position; `.` inside a list item
//! means the manager owns the item itself. A node with no children is a field owned whole.
//! This module decodes those trees into paths ([`Path`]), finds paths in objects the way the
//! API server matches lists (by key, never by position), and moves owned leaves between
//! entries. Pure: no I/O.

use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A field of an object (or a key of a map).
    Field(String),
    /// The item of a keyed list with these key field values.
    Key(BTreeMap<String, Json>),
    /// The item of a set-like list with this value.
    Value(Json),
    /// A list position (atomic lists, rarely seen in managed fields).
    Index(usize),
}

pub type Path = Vec<Step>;

/// `.` in a list item's set: the manager owns the item itself.
const ITSELF: &str = ".";

impl Step {
    /// A `fieldsV1` key as a step; `None` for `.` and for keys this version cannot read.
    pub fn parse(raw: &str) -> Option<Step> {
        let (kind, rest) = raw.split_once(':')?;
        match kind {
            "f" => Some(Step::Field(rest.to_string())),
            "k" => match serde_json::from_str::<Json>(rest).ok()? {
                Json::Object(m) => Some(Step::Key(m.into_iter().collect())),
                _ => None,
            },
            "v" => serde_json::from_str(rest).ok().map(Step::Value),
            "i" => rest.parse().ok().map(Step::Index),
            _ => None,
        }
    }
}

fn scalar(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A path as people read it: `spec.template.spec.containers[name=web].env[name=DEBUG]`.
pub fn display(path: &[Step]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Step::Field(f) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(f);
            }
            Step::Key(k) => {
                let parts: Vec<String> = k
                    .iter()
                    .map(|(n, v)| format!("{n}={}", scalar(v)))
                    .collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            Step::Value(v) => out.push_str(&format!("[{}]", scalar(v))),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether two JSON values are the same key value (numbers by value: `80` = `80.0`).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Whether a list item has the key values `key`. A missing `protocol` is the API server's
/// default, `TCP` (ports are keyed by number and protocol).
pub fn item_has_key(item: &Json, key: &BTreeMap<String, Json>) -> bool {
    key.iter().all(|(k, v)| match item.get(k) {
        Some(x) => same(x, v),
        None => k == "protocol" && v.as_str() == Some("TCP"),
    })
}

/// The value one step below `v`, if it has it.
pub fn child<'a>(v: &'a Json, step: &Step) -> Option<&'a Json> {
    match (step, v) {
        (Step::Field(f), Json::Object(m)) => m.get(f).filter(|x| !x.is_null()),
        (Step::Key(k), Json::Array(items)) => items.iter().find(|i| item_has_key(i, k)),
        (Step::Value(x), Json::Array(items)) => items.iter().find(|i| same(i, x)),
        (Step::Index(i), Json::Array(items)) => items.get(*i),
        _ => None,
    }
}

/// The value at `path` in `v`.
pub fn lookup<'a>(v: &'a Json, path: &[Step]) -> Option<&'a Json> {
    path.iter().try_fold(v, |at, s| child(at, s))
}

/// How many leading steps of `path` exist in `v`; a path that goes inside a scalar or a
/// list the object sets whole (`args`, `command`) counts as present from there on.
pub fn present_prefix(v: &Json, path: &[Step]) -> usize {
    let mut at = v;
    for (i, s) in path.iter().enumerate() {
        let goes_into_list = !matches!(s, Step::Field(_));
        if goes_into_list && !at.is_array() {
            return path.len();
        }
        if !goes_into_list && !at.is_object() {
            return path.len();
        }
        match child(at, s) {
            Some(next) => at = next,
            None => return i,
        }
    }
    path.len()
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub manager: String,
    /// `Apply` (server-side apply) or `Update` (every other write).
    pub operation: String,
    pub api_version: String,
    /// `status`, `scale`, ... for writes through a subresource; empty for the object itself.
    pub subresource: String,
    pub fields: Json,
}

/// One raw `managedFields` item as an [`Entry`]; `None` for another format than FieldsV1.
pub fn entry(raw: &Json) -> Option<Entry> {
    let s = |k: &str| {
        raw.get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (raw.get("fieldsType").and_then(Json::as_str) == Some("FieldsV1")).then(|| Entry {
        manager: s("manager"),
        operation: s("operation"),
        api_version: s("apiVersion"),
        subresource: s("subresource"),
        fields: raw.get("fieldsV1").cloned().unwrap_or(Json::Null),
    })
}

/// The `managedFields` entries of an object (entries in another format are left out).
pub fn entries(object: &Json) -> Vec<Entry> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|list| list.iter().filter_map(entry).collect())
        .unwrap_or_default()
}

/// A leaf of a field set: the raw keys down to it (ending in `.` for a list item owned
/// itself) and the same path decoded (without the `.`).
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    pub raw: Vec<String>,
    pub path: Path,
}

/// Every field a `fieldsV1` set owns. Keys this version cannot decode are skipped with
/// everything below them.
pub fn leaves(fields: &Json) -> Vec<Leaf> {
    fn walk(node: &Map<String, Json>, raw: &mut Vec<String>, path: &mut Path, out: &mut Vec<Leaf>) {
        for (k, v) in node {
            if k == ITSELF {
                let mut r = raw.clone();
                r.push(k.clone());
                out.push(Leaf {
                    raw: r,
                    path: path.clone(),
                });
                continue;
            }
            let Some(step) = Step::parse(k) else { continue };
            raw.push(k.clone());
            path.push(step);
            match v.as_object() {
                Some(m) if !m.is_empty() => walk(m, raw, path, out),
                _ => out.push(Leaf {
                    raw: raw.clone(),
                    path: path.clone(),
                }),
            }
            raw.pop();
            path.pop();
        }
    }
    let mut out = Vec::new();
    if let Some(m) = fields.as_object() {
        walk(m, &mut Vec::new(), &mut Vec::new(), &mut out);
    }
    out
}

/// Whether the set owns `path` or something below it.
pub fn owns(fields: &Json, path: &[Step]) -> bool {
    let mut at = fields;
    for s in path {
        let Some(m) = at.as_object() else {
            return false;
        };
        match m
            .iter()
            .find(|(k, _)| Step::parse(k).as_ref() == Some(s))
            .map(|(_, v)| v)
        {
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}

/// Take the leaf `raw` out of a field set, dropping the nodes it leaves empty (an empty node
/// would mean "owns this field whole"). Returns whether it was there.
pub fn remove_leaf(fields: &mut Json, raw: &[String]) -> bool {
    let Some((last, parents)) = raw.split_last() else {
        return false;
    };
    let Some(m) = fields.as_object_mut() else {
        return false;
    };
    match parents.first() {
        None => m.remove(last).is_some(),
        Some(first) => {
            let Some(next) = m.get_mut(first) else {
                return false;
            };
            let mut rest = parents[1..].to_vec();
            rest.push(last.clone());
            let removed = remove_leaf(next, &rest);
            if removed && next.as_object().is_some_and(Map::is_empty) {
                m.remove(first);
            }
            removed
        }
    }
}

/// Add the leaf `raw` to a field set.
pub fn add_leaf(fields: &mut Json, raw: &[String]) {
    if !fields.is_object() {
        *fields = Json::Object(Map::new());
    }
    let mut at = fields;
    for k in raw {
        let Some(m) = at.as_object_mut() else { return };
        at = m
            .entry(k.clone())
            .or_insert_with(|| Json::Object(Map::new()));
    }
}

/// `value` cut down to what the set `fields` owns (the fields a manager wrote, without the
/// defaults the server filled in around them).
pub fn project(value: &Json, fields: &Json) -> Json {
    let Some(m) = fields.as_object().filter(|m| !m.is_empty()) else {
        return value.clone();
    };
    match value {
        Json::Object(obj) => {
            let mut out = Map::new();
            for (k, sub) in m {
                if let Some(Step::Field(f)) = Step::parse(k)
                    && let Some(v) = obj.get(&f)
                {
                    out.insert(f, project(v, sub));
                }
            }
            Json::Object(out)
        }
        Json::Array(_) => Json::Array(
            m.iter()
                .filter_map(|(k, sub)| {
                    let s = Step::parse(k)?;
                    child(value, &s).map(|v| project(v, sub))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The sub-set of `fields` at `path` (raw keys), if any.
pub fn subset<'a>(fields: &'a Json, raw: &[String]) -> Option<&'a Json> {
    raw.iter().try_fold(fields, |at, k| at.get(k))
}

/// Which entry of a `managedFields` list: one manager's writes of one operation through one
/// subresource (empty for the object itself).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EntryKey<'a> {
    pub manager: &'a str,
    pub operation: &'a str,
    pub subresource: &'a str,
}

impl EntryKey<'_> {
    fn matches(&self, raw: &Json) -> bool {
        entry(raw).is_some_and(|e| {
            e.manager == self.manager
                && e.operation == self.operation
                && e.subresource == self.subresource
        })
    }
}

/// Whether the entry `key` of `list` owns the leaf `raw`.
pub fn entry_owns(list: &[Json], key: EntryKey, raw: &[String]) -> bool {
    list.iter()
        .find(|e| key.matches(e))
        .and_then(|e| e.get("fieldsV1"))
        .and_then(|f| subset(f, raw))
        .is_some()
}

/// Take the leaf `raw` out of the entry `from` of `list`, dropping the entry when it is left
/// owning nothing. Returns whether it was there.
pub fn take_leaf(list: &mut Vec<Json>, from: EntryKey, raw: &[String]) -> bool {
    let Some(i) = list.iter().position(|e| from.matches(e)) else {
        return false;
    };
    let Some(fields) = list[i].get_mut("fieldsV1") else {
        return false;
    };
    if !remove_leaf(fields, raw) {
        return false;
    }
    if fields.as_object().is_none_or(Map::is_empty) {
        list.remove(i);
    }
    true
}

/// Move the leaf `raw` from the entry `from` to the entry `to`, which is added (in `from`'s
/// API version) when `list` has none. Returns whether it moved.
pub fn move_leaf(list: &mut Vec<Json>, from: EntryKey, to: EntryKey, raw: &[String]) -> bool {
    let Some(api_version) = list
        .iter()
        .find(|e| from.matches(e))
        .and_then(|e| e.get("apiVersion").cloned())
    else {
        return false;
    };
    if !take_leaf(list, from, raw) {
        return false;
    }
    let i = match list.iter().position(|e| to.matches(e)) {
        Some(i) => i,
        None => {
            let mut e = serde_json::json!({
                "manager": to.manager,
                "operation": to.operation,
                "apiVersion": api_version,
                "fieldsType": "FieldsV1",
                "fieldsV1": {},
            });
            if !to.subresource.is_empty() {
                e["subresource"] = Json::String(to.subresource.to_string());
            }
            list.push(e);
            list.len() - 1
        }
    };
    if let Some(obj) = list[i].as_object_mut() {
        let fields = obj
            .entry("fieldsV1")
            .or_insert_with(|| Json::Object(Map::new()));
        add_leaf(fields, raw);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> Step {
        Step::Field(s.into())
    }

    fn name(n: &str) -> Step {
        Step::Key(BTreeMap::from([("name".to_string(), json!(n))]))
    }

    /// As `kubectl edit` records an injected sidecar and hostNetwork.
    fn edit() -> Json {
        json!({
            "f:spec": {"f:template": {"f:spec": {
                "f:hostNetwork": {},
                "f:containers": {
                    "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}},
                    "k:{\"name\":\"web\"}": {
                        "f:env": {"k:{\"name\":\"DEBUG\"}": {".": {}, "f:name": {}, "f:value": {}}},
                        "f:ports": {"k:{\"containerPort\":9090,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}
                    }
                },
                "f:finalizers": {"v:\"example.com/x\"": {}}
            }}}
        })
    }

    #[test]
    fn every_key_form_decodes_into_a_step() {
        assert_eq!(Step::parse("f:hostNetwork"), Some(f("hostNetwork")));
        assert_eq!(Step::parse("k:{\"name\":\"web\"}"), Some(name("web")));
        assert_eq!(
            Step::parse("k:{\"containerPort\":80,\"protocol\":\"TCP\"}"),
            Some(Step::Key(BTreeMap::from([
                ("containerPort".to_string(), json!(80)),
                ("protocol".to_string(), json!("TCP"))
            ])))
        );
        assert_eq!(Step::parse("v:\"a\""), Some(Step::Value(json!("a"))));
        assert_eq!(Step::parse("i:3"), Some(Step::Index(3)));
        assert_eq!(Step::parse("."), None);
        assert_eq!(Step::parse("x:1"), None);
        assert_eq!(Step::parse("k:not json"), None);
    }

    #[test]
    fn leaves_name_fields_items_and_items_owned_themselves() {
        let mut shown: Vec<String> = leaves(&edit())
            .iter()
            .map(|l| {
                let dot = if l.raw.last().map(String::as_str) == Some(".") {
                    " (item)"
                } else {
                    ""
                };
                format!("{}{dot}", display(&l.path))
            })
            .collect();
        shown.sort();
        assert_eq!(
            shown,
            vec![
                "spec.template.spec.containers[name=sidecar] (item)",
                "spec.template.spec.containers[name=sidecar].image",
                "spec.template.spec.containers[name=sidecar].name",
                "spec.template.spec.containers[name=web].env[name=DEBUG] (item)",
                "spec.template.spec.containers[name=web].env[name=DEBUG].name",
                "spec.template.spec.containers[name=web].env[name=DEBUG].value",
                "spec.template.spec.containers[name=web].ports[containerPort=9090,protocol=TCP] (item)",
                "spec.template.spec.containers[name=web].ports[containerPort=9090,protocol=TCP].containerPort",
                "spec.template.spec.finalizers[example.com/x]",
                "spec.template.spec.hostNetwork",
            ]
        );
    }

    #[test]
    fn lists_are_matched_by_key_not_position() {
        // The injected container comes first: the app's container is still found by name.
        let obj = json!({"spec": {"containers": [
            {"name": "sidecar", "image": "proxy"},
            {"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}
        ]}});
        let web_image = [f("spec"), f("containers"), name("web"), f("image")];
        assert_eq!(lookup(&obj, &web_image), Some(&json!("nginx")));
        let port = Step::Key(BTreeMap::from([
            ("containerPort".to_string(), json!(80)),
            ("protocol".to_string(), json!("TCP")),
        ]));
        let p = [f("spec"), f("containers"), name("web"), f("ports"), port];
        assert!(lookup(&obj, &p).is_some(), "protocol defaults to TCP");
        let side = [f("spec"), f("containers"), name("sidecar"), f("image")];
        assert_eq!(
            present_prefix(&json!({"spec": {"containers": [{"name": "web"}]}}), &side),
            2
        );
        // Below a list set whole (args), everything counts as present.
        let arg = [f("args"), Step::Index(0)];
        assert_eq!(present_prefix(&json!({"args": "x"}), &arg), 2);
    }

    #[test]
    fn leaves_move_between_sets_and_empty_nodes_go() {
        let mut from = edit();
        let mut to = json!({"f:metadata": {"f:labels": {"f:app": {}}}});
        let host = leaves(&from)
            .into_iter()
            .find(|l| display(&l.path) == "spec.template.spec.hostNetwork")
            .map(|l| l.raw)
            .unwrap_or_default();
        assert!(remove_leaf(&mut from, &host));
        add_leaf(&mut to, &host);
        assert!(owns(
            &to,
            &[f("spec"), f("template"), f("spec"), f("hostNetwork")]
        ));
        assert!(!owns(
            &from,
            &[f("spec"), f("template"), f("spec"), f("hostNetwork")]
        ));
        for l in leaves(&edit()) {
            remove_leaf(&mut from, &l.raw);
        }
        assert_eq!(
            from,
            json!({}),
            "no empty node is left to mean 'owns it whole'"
        );
        assert!(!remove_leaf(&mut from, &host));
    }

    #[test]
    fn projection_keeps_only_what_the_manager_wrote() {
        let live = json!({"name": "sidecar", "image": "proxy", "imagePullPolicy": "Always", "terminationMessagePath": "/dev/termination-log"});
        let set = json!({".": {}, "f:image": {}, "f:name": {}});
        assert_eq!(
            project(&live, &set),
            json!({"name": "sidecar", "image": "proxy"})
        );
        assert_eq!(project(&json!(true), &json!({})), json!(true));
    }

    #[test]
    fn a_leaf_moves_between_entries_and_an_emptied_entry_goes() {
        let apply = EntryKey {
            manager: "jke",
            operation: "Apply",
            subresource: "",
        };
        let scale = EntryKey {
            manager: "jke",
            operation: "Update",
            subresource: "scale",
        };
        let replicas = ["f:spec".to_string(), "f:replicas".to_string()];
        let mut list = vec![
            json!({"manager": "jke", "operation": "Apply", "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:paused": {}}}}),
        ];
        assert!(move_leaf(&mut list, apply, scale, &replicas));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["fieldsV1"], json!({"f:spec": {"f:paused": {}}}));
        assert_eq!(
            list[1],
            json!({"manager": "jke", "operation": "Update", "apiVersion": "apps/v1", "subresource": "scale",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}})
        );
        assert!(entry_owns(&list, scale, &replicas) && !entry_owns(&list, apply, &replicas));
        // Nothing to move: nothing changes.
        assert!(!move_leaf(&mut list, apply, scale, &replicas));
        assert_eq!(list.len(), 2);
        // Back again: the scale entry owns nothing more and is dropped.
        assert!(move_leaf(&mut list, scale, apply, &replicas));
        assert_eq!(list.len(), 1);
        assert!(entry_owns(&list, apply, &replicas));
    }
}
