//! Field-by-field comparison of a rendered object with its live copy: the core of drift
//! for every resource. Only fields the provider sets are looked at, so server defaults and
//! fields other managers add never count.

use super::quantity::same_quantity;
use serde_json::Value as Json;

/// Differences as (field path, live value), e.g. ("spec.replicas", "3"). Strings at paths
/// where `is_quantity` holds compare by value ("1" = "1000m").
pub fn differences(
    want: &Json,
    have: &Json,
    is_quantity: fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    compare(want, have, "", is_quantity, &mut out);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
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

fn compare(
    want: &Json,
    have: &Json,
    path: &str,
    is_quantity: fn(&str) -> bool,
    out: &mut Vec<(String, String)>,
) {
    match (want, have) {
        (Json::Object(w), Json::Object(h)) => {
            for (k, wv) in w {
                match h.get(k) {
                    Some(hv) => compare(wv, hv, &join(path, k), is_quantity, out),
                    None if is_zero(wv) => {}
                    None => out.push((join(path, k), "(removed)".into())),
                }
            }
        }
        (Json::Array(w), Json::Array(h)) => {
            for (i, wv) in w.iter().enumerate() {
                let p = format!("{path}[{i}]");
                match h.get(i) {
                    Some(hv) => compare(wv, hv, &p, is_quantity, out),
                    None => out.push((p, "(removed)".into())),
                }
            }
        }
        (Json::String(w), Json::String(h)) if is_quantity(path) && same_quantity(w, h) => {}
        (Json::Number(w), Json::Number(h)) if w.as_f64() == h.as_f64() => {}
        (w, h) if w == h => {}
        (_, h) => out.push((
            path.to_string(),
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
                ("spec.ports[0]".to_string(), "(removed)".to_string()),
                ("spec.replicas".to_string(), "3".to_string())
            ]
        );
    }
}
