//! `jke_cluster` spec -> its objects, in apply order. Pure and deterministic.

use super::spec::{Issuer, LimitRange, Quota, Spec};
use crate::app::application::spec::StringMap;
use crate::app::object::{Kind, LABEL_MANAGED_BY, MANAGED_BY, Manifest};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// The environment marker: ConfigMap `kube-system/jke-environment`, key `name`. The
/// provider's environment guard reads it (see `kube::client`).
pub const MARKER_NAMESPACE: &str = "kube-system";
pub const MARKER_NAME: &str = "jke-environment";
pub const MARKER_KEY: &str = "name";
/// Further keys of the marker: defaults for apps, for people and tools reading the cluster.
pub const MARKER_INGRESS_CLASS: &str = "ingress_class";
pub const MARKER_BASE_DOMAIN: &str = "base_domain";
pub const MARKER_DEFAULT_ISSUER: &str = "default_issuer";

/// Label that tells jke_cluster's objects from the apps' (both are `managed-by=jke`).
pub const LABEL_COMPONENT: &str = "jke.dev/component";
pub const COMPONENT: &str = "cluster";

/// Names of the per-namespace objects.
pub const LIMIT_RANGE_NAME: &str = "jke-limits";
pub const QUOTA_NAME: &str = "jke-quota";
pub const DEFAULT_DENY_NAME: &str = "jke-default-deny";

/// Pod Security admission: the namespace labels the API server's admission reads.
pub const POD_SECURITY_LABEL_PREFIX: &str = "pod-security.kubernetes.io/";
pub const POD_SECURITY_ENFORCE: &str = "pod-security.kubernetes.io/enforce";
pub const POD_SECURITY_LEVELS: [&str; 3] = ["privileged", "baseline", "restricted"];

/// The kinds of object jke_cluster manages, in apply order (prune and destroy go in reverse).
pub const KINDS: [Kind; 6] = [
    Kind::Namespace,
    Kind::LimitRange,
    Kind::ResourceQuota,
    Kind::NetworkPolicy,
    Kind::ConfigMap,
    Kind::ClusterIssuer,
];

/// Name of the Secret cert-manager keeps an issuer's ACME account key in.
pub fn account_key_secret(issuer: &str) -> String {
    format!("{issuer}-acme-account-key")
}

/// Name of the CRD that serves ClusterIssuers.
pub const ISSUER_CRD: &str = "clusterissuers.cert-manager.io";

/// Labels on every object jke_cluster manages (prune finds them by these).
pub fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        (LABEL_COMPONENT.to_string(), COMPONENT.to_string()),
    ])
}

/// Label selector matching every object jke_cluster manages.
pub fn label_selector() -> String {
    format!("{LABEL_MANAGED_BY}={MANAGED_BY},{LABEL_COMPONENT}={COMPONENT}")
}

fn object(
    kind: Kind,
    namespace: Option<&str>,
    name: &str,
    labels: &StringMap,
    rest: Json,
) -> Manifest {
    let mut metadata = json!({ "name": name, "labels": labels });
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    let mut obj = json!({
        "apiVersion": kind.api_version(),
        "kind": kind.name(),
        "metadata": metadata,
    });
    if let (Some(o), Json::Object(extra)) = (obj.as_object_mut(), rest) {
        o.extend(extra);
    }
    Manifest::of(kind, name, namespace, &obj)
}

fn non_empty(pairs: &[(&str, Option<&str>)]) -> serde_json::Map<String, Json> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| ((*k).to_string(), json!(v))))
        .collect()
}

/// The LimitRange of a namespace, if it asks for one.
fn limit_range(ns: &str, lr: &LimitRange) -> Manifest {
    let default = non_empty(&[
        ("cpu", lr.default_cpu.as_deref()),
        ("memory", lr.default_memory.as_deref()),
    ]);
    let request = non_empty(&[
        ("cpu", lr.default_request_cpu.as_deref()),
        ("memory", lr.default_request_memory.as_deref()),
    ]);
    let mut item = json!({ "type": "Container" });
    if !default.is_empty() {
        item["default"] = Json::Object(default);
    }
    if !request.is_empty() {
        item["defaultRequest"] = Json::Object(request);
    }
    object(
        Kind::LimitRange,
        Some(ns),
        LIMIT_RANGE_NAME,
        &labels(),
        json!({ "spec": { "limits": [item] } }),
    )
}

/// The ResourceQuota of a namespace: `cpu` and `memory` cap both the requests and the
/// limits of all pods together (they are equal for JKE apps), `pods` their number.
fn quota(ns: &str, q: &Quota) -> Manifest {
    let pods = q.pods.map(|p| p.to_string());
    let hard = non_empty(&[
        ("limits.cpu", q.cpu.as_deref()),
        ("limits.memory", q.memory.as_deref()),
        ("pods", pods.as_deref()),
        ("requests.cpu", q.cpu.as_deref()),
        ("requests.memory", q.memory.as_deref()),
    ]);
    object(
        Kind::ResourceQuota,
        Some(ns),
        QUOTA_NAME,
        &labels(),
        json!({ "spec": { "hard": hard } }),
    )
}

fn issuer(i: &Issuer) -> Manifest {
    let solver = match (&i.http01_ingress_class, &i.dns01_route53) {
        (_, Some(r)) => {
            let mut route53 = json!({ "region": r.region, "hostedZoneID": r.hosted_zone_id });
            if let Some(role) = &r.role_arn {
                route53["role"] = json!(role);
            }
            json!({ "dns01": { "route53": route53 } })
        }
        (Some(class), None) => json!({ "http01": { "ingress": { "ingressClassName": class } } }),
        (None, None) => json!({}),
    };
    object(
        Kind::ClusterIssuer,
        None,
        &i.name,
        &labels(),
        json!({
            "spec": {
                "acme": {
                    "email": i.email,
                    "server": i.server,
                    "privateKeySecretRef": { "name": account_key_secret(&i.name) },
                    "solvers": [solver],
                }
            }
        }),
    )
}

/// Admission enforces the namespace's level; warnings (in kubectl and Terraform's API
/// responses) and audit entries always measure against `restricted`, so teams see how far
/// they are from it.
fn pod_security_labels(level: &str) -> StringMap {
    BTreeMap::from([
        (POD_SECURITY_ENFORCE.to_string(), level.to_string()),
        (
            format!("{POD_SECURITY_LABEL_PREFIX}warn"),
            "restricted".to_string(),
        ),
        (
            format!("{POD_SECURITY_LABEL_PREFIX}audit"),
            "restricted".to_string(),
        ),
    ])
}

/// Ingress to every pod of the namespace is denied unless a policy lets it in; each
/// `jke_application` brings its own policy for its ports.
fn default_deny(ns: &str) -> Manifest {
    object(
        Kind::NetworkPolicy,
        Some(ns),
        DEFAULT_DENY_NAME,
        &labels(),
        json!({ "spec": { "podSelector": {}, "policyTypes": ["Ingress"] } }),
    )
}

/// The environment marker with the app defaults.
fn marker(spec: &Spec) -> Manifest {
    let default_issuer = spec.default_issuer();
    let data = non_empty(&[
        (MARKER_BASE_DOMAIN, spec.base_domain.as_deref()),
        (MARKER_DEFAULT_ISSUER, default_issuer.as_deref()),
        (MARKER_INGRESS_CLASS, spec.ingress_class.as_deref()),
        (MARKER_KEY, Some(spec.environment.as_str())),
    ]);
    object(
        Kind::ConfigMap,
        Some(MARKER_NAMESPACE),
        MARKER_NAME,
        &labels(),
        json!({ "data": data }),
    )
}

/// Every object of `spec`, in apply order: namespaces, their LimitRanges and
/// ResourceQuotas, the marker ConfigMap, then the ClusterIssuers (whose CRD may still be on
/// its way).
pub fn render(spec: &Spec) -> Vec<Manifest> {
    let mut out = Vec::new();
    let namespaces = spec.namespaces.clone().unwrap_or_default();
    for (name, ns) in &namespaces {
        let mut l = ns.labels.clone().unwrap_or_default();
        l.extend(pod_security_labels(&ns.pod_security));
        l.extend(labels());
        out.push(object(Kind::Namespace, None, name, &l, json!({})));
    }
    for (name, ns) in &namespaces {
        if let Some(lr) = &ns.limit_range {
            out.push(limit_range(name, lr));
        }
    }
    for (name, ns) in &namespaces {
        if let Some(q) = &ns.quota {
            out.push(quota(name, q));
        }
    }
    for (name, ns) in &namespaces {
        if ns.default_deny_ingress {
            out.push(default_deny(name));
        }
    }
    out.push(marker(spec));
    for i in spec.issuer_list() {
        out.push(issuer(i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{full, input};
    use super::super::spec::defaults;
    use super::*;

    #[test]
    fn renders_every_object_in_apply_order_with_the_management_labels() {
        let objs = render(&full());
        let keys: Vec<String> = objs.iter().map(Manifest::qualified_key).collect();
        assert_eq!(
            keys,
            [
                "Namespace/shop",
                "Namespace/tools",
                "LimitRange/shop/jke-limits",
                "ResourceQuota/shop/jke-quota",
                "NetworkPolicy/shop/jke-default-deny",
                "NetworkPolicy/tools/jke-default-deny",
                "ConfigMap/kube-system/jke-environment",
                "ClusterIssuer/letsencrypt",
                "ClusterIssuer/letsencrypt-dns",
            ]
        );
        for o in &objs {
            assert_eq!(
                o.object["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                "jke"
            );
            assert_eq!(
                o.object["metadata"]["labels"]["jke.dev/component"],
                "cluster"
            );
            assert_eq!(o.object["kind"], o.kind.name());
            assert_eq!(o.object["apiVersion"], o.kind.api_version());
            assert_eq!(
                o.object["metadata"]["namespace"].as_str(),
                o.namespace.as_deref()
            );
        }
        assert_eq!(objs[0].object["metadata"]["labels"]["team"], "shop");
        assert_eq!(
            objs[0].object["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
            "restricted"
        );
        assert_eq!(
            objs[4].object["spec"],
            json!({ "podSelector": {}, "policyTypes": ["Ingress"] })
        );
        assert_eq!(
            objs[2].object["spec"],
            json!({ "limits": [{ "type": "Container", "default": { "cpu": "500m", "memory": "512Mi" } }] })
        );
        assert_eq!(
            objs[3].object["spec"]["hard"],
            json!({ "requests.cpu": "8", "limits.cpu": "8", "requests.memory": "16Gi", "limits.memory": "16Gi", "pods": "50" })
        );
        assert_eq!(
            objs[6].object["data"],
            json!({ "name": "prod", "ingress_class": "nginx", "base_domain": "apps.example.com", "default_issuer": "letsencrypt" })
        );
        assert_eq!(
            objs[7].object["spec"]["acme"],
            json!({
                "email": "platform@example.com",
                "server": defaults::ACME_SERVER,
                "privateKeySecretRef": { "name": "letsencrypt-acme-account-key" },
                "solvers": [{ "http01": { "ingress": { "ingressClassName": "nginx" } } }]
            })
        );
        assert_eq!(
            objs[8].object["spec"]["acme"]["solvers"][0],
            json!({ "dns01": { "route53": { "region": "eu-west-1", "hostedZoneID": "Z0123456789ABC", "role": "arn:aws:iam::111122223333:role/dns" } } })
        );
        assert_eq!(render(&full()), objs, "rendering is deterministic");
    }

    #[test]
    fn only_the_marker_when_nothing_else_is_asked() {
        let objs = render(&Spec::resolve(
            &input(json!({ "environment": "dev" })),
            "baseline",
        ));
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].object["data"], json!({ "name": "dev" }));
    }
}
