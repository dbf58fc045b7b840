//! Field-by-field comparison of a rendered object with its live copy: the core of drift
//! for every resource. Only fields the provider sets are looked at here (server defaults
//! never count); fields other managers add are found from the managed fields
//! (`foreign_fields`). Lists the API merges by key are matched by key, not position.

use super::managed_fields::{Path, Step, child, display};
use super::quantity::same_quantity;
use serde_json::Value as Json;

/// Differences as (field path, live value), e.g. ("spec.replicas", "3"). Strings at paths
/// where `is_quantity` holds compare by value ("1" = "1000m").
pub fn differences(
    want: &Json,
    have: &Json,
    is_quantity: fn(&str) -> bool,
) -> Vec<(String, String)> {
    differences_at(want, have, is_quantity)
        .into_iter()
        .map(|(p, v)| (display(&p), v))
        .collect()
}

/// [`differences`] with each path as steps, to look it up in the object's managed fields.
pub fn differences_at(
    want: &Json,
    have: &Json,
    is_quantity: fn(&str) -> bool,
) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    compare(want, have, &mut Vec::new(), is_quantity, &mut out);
    out
}

/// The API server omits zero values (`initialDelaySeconds: 0`, empty lists).
fn is_zero(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
    }
}

/// The fields that identify an item of the list at `path` (the list's merge keys in the
/// Kubernetes API), or `None` for a list compared by position. Matching by key means an
/// item someone inserts before the app's own is an added item, not a change of the app's.
pub fn merge_keys(path: &[Step], item: &Json) -> Option<&'static [&'static str]> {
    let field = match path.last() {
        Some(Step::Field(f)) => f.as_str(),
        _ => return None,
    };
    let keys: Option<&'static [&'static str]> = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "schedulingGates"
        | "resourceClaims"
        | "secrets" => Some(&["name"]),
        "volumeMounts" => Some(&["mountPath"]),
        "volumeDevices" => Some(&["devicePath"]),
        "hostAliases" => Some(&["ip"]),
        "resizePolicy" => Some(&["resourceName"]),
        "topologySpreadConstraints" => Some(&["topologyKey", "whenUnsatisfiable"]),
        // A container's ports, and the Service's own (`spec.ports`); a NetworkPolicy's
        // rule ports are compared by position, as the API treats them.
        "ports" if item.get("containerPort").is_some() => Some(&["containerPort", "protocol"]),
        "ports" if path.len() == 2 && path[0] == Step::Field("spec".into()) => {
            Some(&["port", "protocol"])
        }
        _ => None,
    };
    keys.filter(|keys| {
        keys.iter()
            .all(|k| item.get(k).is_some() || *k == "protocol")
    })
}

/// The step that names `item` in a list at `path`.
fn item_step(path: &[Step], item: &Json, index: usize) -> Step {
    match merge_keys(path, item) {
        Some(keys) => Step::Key(
            keys.iter()
                .map(|k| {
                    let v = item.get(*k).cloned().unwrap_or_else(|| Json::from("TCP"));
                    ((*k).to_string(), v)
                })
                .collect(),
        ),
        None => Step::Index(index),
    }
}

fn compare(
    want: &Json,
    have: &Json,
    path: &mut Path,
    is_quantity: fn(&str) -> bool,
    out: &mut Vec<(Path, String)>,
) {
    match (want, have) {
        (Json::Object(w), Json::Object(h)) => {
            for (k, wv) in w {
                path.push(Step::Field(k.clone()));
                match h.get(k) {
                    Some(hv) => compare(wv, hv, path, is_quantity, out),
                    None if is_zero(wv) => {}
                    None => out.push((path.clone(), "(removed)".into())),
                }
                path.pop();
            }
        }
        (Json::Array(w), Json::Array(_)) => {
            for (i, wv) in w.iter().enumerate() {
                let step = item_step(path, wv, i);
                let found = child(have, &step);
                path.push(step);
                match found {
                    Some(hv) => compare(wv, hv, path, is_quantity, out),
                    None => out.push((path.clone(), "(removed)".into())),
                }
                path.pop();
            }
        }
        (Json::String(w), Json::String(h))
            if is_quantity(&display(path)) && same_quantity(w, h) => {}
        (Json::Number(w), Json::Number(h)) if w.as_f64() == h.as_f64() => {}
        (w, h) if w == h => {}
        (_, h) => out.push((
            path.clone(),
            match h {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn any_quantity(p: &str) -> bool {
        p.contains("resources.")
    }

    #[test]
    fn reports_changed_and_removed_fields_but_not_server_additions_or_omitted_zeros() {
        let want = json!({"spec": {"replicas": 2, "delay": 0, "resources": {"cpu": "1"}, "ports": [{"port": 80}]}});
        let have = json!({"spec": {"replicas": 3, "resources": {"cpu": "1000m"}, "ports": [], "extra": true}});
        assert_eq!(
            differences(&want, &have, any_quantity),
            vec![
                (
                    "spec.ports[port=80,protocol=TCP]".to_string(),
                    "(removed)".to_string()
                ),
                ("spec.replicas".to_string(), "3".to_string())
            ]
        );
    }

    #[test]
    fn an_item_inserted_before_the_apps_own_is_not_a_change_of_it() {
        let want = json!({"spec": {"containers": [{"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}],
            "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}});
        let have = json!({"spec": {"containers": [
            {"name": "sidecar", "image": "proxy"},
            {"name": "web", "image": "nginx", "env": [{"name": "DEBUG", "value": "1"}, {"name": "A", "value": "2"}],
             "ports": [{"containerPort": 9090, "protocol": "TCP"}, {"containerPort": 80, "protocol": "TCP"}]}
        ]}});
        assert_eq!(
            differences(&want, &have, any_quantity),
            vec![(
                "spec.containers[name=web].env[name=A].value".to_string(),
                "2".to_string()
            )]
        );
        // Lists without merge keys (a NetworkPolicy rule's ports) still go by position.
        let want = json!({"spec": {"ingress": [{"ports": [{"port": 80}]}]}});
        let have = json!({"spec": {"ingress": [{"ports": [{"port": 81}]}]}});
        assert_eq!(
            differences(&want, &have, any_quantity),
            vec![(
                "spec.ingress[0].ports[0].port".to_string(),
                "81".to_string()
            )]
        );
    }
}
