//! `jke_cluster`'s live objects -> drift, and a spec rebuilt from them (import).

use super::bundle::{
    MARKER_BASE_DOMAIN, MARKER_DEFAULT_ISSUER, MARKER_INGRESS_CLASS, MARKER_KEY,
    POD_SECURITY_ENFORCE, POD_SECURITY_LABEL_PREFIX, labels,
};
use super::spec::{Issuer, LimitRange, NamespaceSpec, Quota, Route53, Spec, defaults};
use crate::app::application::spec::StringMap;
use crate::app::live_diff;
use crate::app::object::Manifest;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Differences between the rendered objects and the live ones (`live[i]` is what the cluster
/// has for `expected[i]`, `None` when it is gone): `Kind/[namespace/]name: field` -> live
/// value, or `Kind/[namespace/]name` -> `deleted`. Only fields the provider sets are looked at.
/// `None` when nothing at all is left (the resource is gone).
pub fn drift(expected: &[Manifest], live: &[Option<Json>]) -> Option<BTreeMap<String, String>> {
    if live.iter().all(Option::is_none) {
        return None;
    }
    let mut out = BTreeMap::new();
    for (m, l) in expected.iter().zip(live) {
        match l {
            None => {
                out.insert(m.qualified_key(), "deleted".to_string());
            }
            Some(l) => {
                let diffs = live_diff::differences(&m.object, l, is_quantity_path);
                for (path, value) in diffs {
                    out.insert(format!("{}: {path}", m.qualified_key()), value);
                }
            }
        }
    }
    Some(out)
}

/// Quantities are compared by value ("1" and "1000m" are equal; the API server rewrites
/// some spellings).
fn is_quantity_path(path: &str) -> bool {
    path.starts_with("spec.hard.") || path.starts_with("spec.limits[")
}

/// One managed namespace as found in the cluster.
#[derive(Clone, Debug, Default)]
pub struct LiveNamespace {
    pub namespace: Json,
    pub limit_range: Option<Json>,
    pub quota: Option<Json>,
    pub default_deny: Option<Json>,
}

fn str_at(j: &Json, ptr: &str) -> Option<String> {
    j.pointer(ptr).and_then(Json::as_str).map(str::to_string)
}

/// Rebuild a spec from the live marker ConfigMap, the managed ClusterIssuers and the managed
/// namespaces (found by [`label_selector`]). Settings jke_cluster does not render come back
/// as their defaults.
pub fn import(
    marker: &Json,
    issuers: &[Json],
    namespaces: &BTreeMap<String, LiveNamespace>,
) -> Spec {
    let data = |k: &str| str_at(marker, &format!("/data/{k}"));
    let mut issuer_list: Vec<Issuer> = issuers
        .iter()
        .filter_map(|o| {
            let name = str_at(o, "/metadata/name")?;
            let acme = o.pointer("/spec/acme")?;
            let solver = acme.pointer("/solvers/0");
            let route53 = solver.and_then(|s| s.pointer("/dns01/route53"));
            Some(Issuer {
                name,
                email: str_at(acme, "/email").unwrap_or_default(),
                server: str_at(acme, "/server").unwrap_or_else(|| defaults::ACME_SERVER.into()),
                http01_ingress_class: solver
                    .and_then(|s| str_at(s, "/http01/ingress/ingressClassName")),
                dns01_route53: route53.map(|r| Route53 {
                    region: str_at(r, "/region").unwrap_or_default(),
                    hosted_zone_id: str_at(r, "/hostedZoneID").unwrap_or_default(),
                    role_arn: str_at(r, "/role"),
                }),
            })
        })
        .collect();
    // The default issuer goes first; the others in name order.
    issuer_list.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(d) = data(MARKER_DEFAULT_ISSUER)
        && let Some(pos) = issuer_list.iter().position(|i| i.name == d)
    {
        let first = issuer_list.remove(pos);
        issuer_list.insert(0, first);
    }
    let ns_map: BTreeMap<String, NamespaceSpec> = namespaces
        .iter()
        .map(|(name, live)| {
            let own = labels();
            let user: StringMap = live
                .namespace
                .pointer("/metadata/labels")
                .and_then(Json::as_object)
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| {
                            !own.contains_key(*k)
                                && *k != "kubernetes.io/metadata.name"
                                && !k.starts_with(POD_SECURITY_LABEL_PREFIX)
                        })
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            let limit_range = live.limit_range.as_ref().map(|lr| {
                let item = lr.pointer("/spec/limits/0").cloned().unwrap_or_default();
                LimitRange {
                    default_cpu: str_at(&item, "/default/cpu"),
                    default_memory: str_at(&item, "/default/memory"),
                    default_request_cpu: str_at(&item, "/defaultRequest/cpu"),
                    default_request_memory: str_at(&item, "/defaultRequest/memory"),
                }
            });
            let quota = live.quota.as_ref().map(|q| Quota {
                cpu: str_at(q, "/spec/hard/requests.cpu"),
                memory: str_at(q, "/spec/hard/requests.memory"),
                pods: str_at(q, "/spec/hard/pods").and_then(|p| p.parse().ok()),
            });
            (
                name.clone(),
                NamespaceSpec {
                    labels: Some(user).filter(|u| !u.is_empty()),
                    limit_range,
                    quota,
                    // No enforce label: nothing is enforced, which is the privileged level.
                    pod_security: str_at(
                        &live.namespace,
                        &format!(
                            "/metadata/labels/{}",
                            POD_SECURITY_ENFORCE.replace('/', "~1")
                        ),
                    )
                    .unwrap_or_else(|| "privileged".into()),
                    default_deny_ingress: live.default_deny.is_some(),
                },
            )
        })
        .collect();
    Spec {
        environment: data(MARKER_KEY).unwrap_or_default(),
        ingress_class: data(MARKER_INGRESS_CLASS),
        base_domain: data(MARKER_BASE_DOMAIN),
        issuers: Some(issuer_list).filter(|l| !l.is_empty()),
        namespaces: Some(ns_map).filter(|m| !m.is_empty()),
        crd_wait_timeout: defaults::CRD_WAIT_TIMEOUT.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::bundle::render;
    use super::super::fixtures::full;
    use super::*;
    use crate::app::object::Kind;
    use serde_json::json;

    #[test]
    fn drift_names_changed_fields_and_deleted_objects_and_ignores_server_fields() {
        let objs = render(&full());
        let mut objects: Vec<Json> = objs.iter().map(|o| o.object.clone()).collect();
        // Fields the server adds are not drift; equal quantities in another spelling neither.
        objects[0]["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!("shop");
        objects[0]["status"] = json!({ "phase": "Active" });
        objects[3]["spec"]["hard"]["requests.cpu"] = json!("8000m");
        let live: Vec<Option<Json>> = objects.iter().cloned().map(Some).collect();
        assert_eq!(drift(&objs, &live), Some(BTreeMap::new()));
        objects[3]["spec"]["hard"]["limits.memory"] = json!("1Gi");
        let mut live: Vec<Option<Json>> = objects.into_iter().map(Some).collect();
        live[7] = None;
        let d = drift(&objs, &live).unwrap_or_default();
        assert_eq!(
            d,
            BTreeMap::from([
                (
                    "ClusterIssuer/letsencrypt".to_string(),
                    "deleted".to_string()
                ),
                (
                    "ResourceQuota/shop/jke-quota: spec.hard.limits.memory".to_string(),
                    "1Gi".to_string()
                ),
            ])
        );
        let gone: Vec<Option<Json>> = objs.iter().map(|_| None).collect();
        assert_eq!(drift(&objs, &gone), None);
    }

    #[test]
    fn import_rebuilds_what_render_wrote() {
        let spec = full();
        let objs = render(&spec);
        let find = |k: &str| {
            objs.iter()
                .find(|o| o.qualified_key() == k)
                .map(|o| o.object.clone())
        };
        let marker = find("ConfigMap/kube-system/jke-environment").unwrap_or_default();
        let issuers: Vec<Json> = objs
            .iter()
            .filter(|o| o.kind == Kind::ClusterIssuer)
            .rev()
            .map(|o| o.object.clone())
            .collect();
        let namespaces = BTreeMap::from([
            (
                "shop".to_string(),
                LiveNamespace {
                    namespace: find("Namespace/shop").unwrap_or_default(),
                    limit_range: find("LimitRange/shop/jke-limits"),
                    quota: find("ResourceQuota/shop/jke-quota"),
                    default_deny: find("NetworkPolicy/shop/jke-default-deny"),
                },
            ),
            (
                "tools".to_string(),
                LiveNamespace {
                    namespace: find("Namespace/tools").unwrap_or_default(),
                    default_deny: find("NetworkPolicy/tools/jke-default-deny"),
                    ..LiveNamespace::default()
                },
            ),
        ]);
        assert_eq!(import(&marker, &issuers, &namespaces), spec);
    }
}
