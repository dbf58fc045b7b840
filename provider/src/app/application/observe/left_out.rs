//! What an imported app's live objects hold that `jke_application` cannot express, listed
//! for import's warning (a report of its own, apart from taking fields back).

use super::Live;
use super::bundle;
use crate::app::application::spec::Spec;
use crate::app::object::Kind;
use serde_json::Value as Json;

/// Pod fields the provider renders, or the API server fills in on every Deployment.
const POD_FIELDS: [&str; 13] = [
    "containers",
    "securityContext",
    "serviceAccountName",
    "serviceAccount",
    "terminationGracePeriodSeconds",
    "automountServiceAccountToken",
    "topologySpreadConstraints",
    "nodeSelector",
    "volumes",
    "restartPolicy",
    "dnsPolicy",
    "schedulerName",
    "enableServiceLinks",
];
/// Container fields the provider renders, or the API server fills in.
const CONTAINER_FIELDS: [&str; 16] = [
    "name",
    "image",
    "ports",
    "env",
    "resources",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "lifecycle",
    "securityContext",
    "command",
    "args",
    "volumeMounts",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "imagePullPolicy",
];

/// What an imported app's live objects have that `jke_application` cannot express (extra
/// containers, volumes, env from references, scheduling settings, ...), one line each.
/// Import leaves these out of the state, and the next apply takes them over and removes them
/// (see `foreign_fields`), so the warning lists them before that happens.
pub fn left_out(spec: &Spec, live: &Live) -> Vec<String> {
    let mut out = Vec::new();
    let Some(d) = live.objects.get(&Kind::Deployment) else {
        return out;
    };
    let selector = &d["spec"]["selector"];
    let jke_selector = serde_json::to_value(bundle::selector(spec)).unwrap_or_default();
    if selector["matchLabels"] != jke_selector || selector.get("matchExpressions").is_some() {
        out.push(format!(
            "the Deployment's pod selector {} is not JKE's {jke_selector}: Kubernetes does not allow changing a selector, so an apply fails with \"field is immutable\" until JKE recreates the Deployment (`terraform apply -replace=<address>`, which replaces the pods)",
            selector["matchLabels"]
        ));
    }
    let pod = &d["spec"]["template"]["spec"];
    let empty = serde_json::Map::new();
    let pod_fields = pod.as_object().unwrap_or(&empty);
    let containers = pod["containers"].as_array().cloned().unwrap_or_default();
    let app = containers
        .iter()
        .position(|c| c["name"] == spec.name.as_str())
        .unwrap_or(0);
    for (i, c) in containers.iter().enumerate() {
        if i != app {
            out.push(format!(
                "container {} (an app has one container; it stays as it is)",
                c["name"]
            ));
        }
    }
    for (k, v) in pod_fields {
        let set = !(v.is_null() || *v == Json::Bool(false));
        if set && !POD_FIELDS.contains(&k.as_str()) {
            out.push(format!("pod setting spec.template.spec.{k}"));
        }
    }
    let tmp = |v: &Json| v["name"] == "tmp" && v.get("emptyDir").is_some();
    let volumes: Vec<&str> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| !tmp(v))
        .filter_map(|v| v["name"].as_str())
        .collect();
    if !volumes.is_empty() {
        out.push(format!("volumes {} and their mounts", volumes.join(", ")));
    }
    if let Some(c) = containers.get(app) {
        let empty = serde_json::Map::new();
        for k in c.as_object().unwrap_or(&empty).keys() {
            if !CONTAINER_FIELDS.contains(&k.as_str()) && k != "envFrom" {
                out.push(format!("container setting {k}"));
            }
        }
        let from: Vec<&str> = c["env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e.get("valueFrom").is_some())
            .filter_map(|e| e["name"].as_str())
            .collect();
        if !from.is_empty() {
            out.push(format!(
                "env {} (values from references; use env, secret_env or secret_env_wo)",
                from.join(", ")
            ));
        }
        if c.get("envFrom")
            .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()))
        {
            out.push("envFrom (whole ConfigMaps or Secrets as env)".to_string());
        }
    }
    if let Some(h) = live.objects.get(&Kind::HorizontalPodAutoscaler) {
        let other = h["spec"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| {
                m["type"] != "Resource"
                    || !matches!(m["resource"]["name"].as_str(), Some("cpu" | "memory"))
                    || m["resource"]["target"]["type"] != "Utilization"
            })
            .count();
        if other > 0 {
            out.push(format!(
                "{other} autoscaler metric(s) other than cpu/memory utilization"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::observe::tests::{live_of, web};

    #[test]
    fn a_jke_app_has_nothing_left_out() {
        let s = web();
        assert_eq!(left_out(&s, &live_of(&s)), Vec::<String>::new());
        let mut r = web();
        r.security.profile = "restricted".into();
        assert_eq!(left_out(&r, &live_of(&r)), Vec::<String>::new());
    }

    #[test]
    fn a_foreign_deployment_names_what_the_app_cannot_hold() {
        let s = web();
        let mut live = live_of(&s);
        if let Some(d) = live.objects.get_mut(&Kind::Deployment) {
            d["spec"]["selector"] = serde_json::json!({"matchLabels": {"app": "web"}});
            let pod = &mut d["spec"]["template"]["spec"];
            pod["containers"][0]["env"] = serde_json::json!([
                {"name": "A", "value": "1"},
                {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}}
            ]);
            pod["containers"][0]["workingDir"] = "/srv".into();
            let sidecar = serde_json::json!({"name": "proxy", "image": "envoy"});
            if let Some(cs) = pod["containers"].as_array_mut() {
                cs.push(sidecar);
            }
            pod["volumes"] =
                serde_json::json!([{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]);
            pod["tolerations"] = serde_json::json!([{"operator": "Exists"}]);
            pod["hostNetwork"] = false.into();
        }
        let got = left_out(&s, &live);
        let has = |needle: &str| got.iter().any(|l| l.contains(needle));
        assert!(has("selector {\"app\":\"web\"}"), "{got:?}");
        assert!(has("container \"proxy\""), "{got:?}");
        assert!(has("env DB"), "{got:?}");
        assert!(has("container setting workingDir"), "{got:?}");
        assert!(has("volumes data"), "{got:?}");
        assert!(has("spec.template.spec.tolerations"), "{got:?}");
        assert!(!has("hostNetwork"), "{got:?}");
        assert_eq!(got.len(), 6, "{got:?}");
    }
}
