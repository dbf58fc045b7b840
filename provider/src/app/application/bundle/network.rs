//! How traffic reaches the app: the Service, the Ingress and the NetworkPolicy (with the
//! peers it admits).

use super::{NAMESPACE_NAME_LABEL, meta, selector, tls_secret_name, to_i32};
use crate::app::application::spec::{Peer, Spec, StringMap};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, IPBlock, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyEgressRule,
    NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
    ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

fn match_labels(labels: StringMap) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..LabelSelector::default()
    }
}

fn namespace_selector(ns: &str) -> LabelSelector {
    match_labels(BTreeMap::from([(
        NAMESPACE_NAME_LABEL.to_string(),
        ns.to_string(),
    )]))
}

/// A peer as the API writes it: pods by namespace and/or labels, or an address block.
pub fn peer(p: &Peer) -> NetworkPolicyPeer {
    match &p.cidr {
        Some(cidr) => NetworkPolicyPeer {
            ip_block: Some(IPBlock {
                cidr: cidr.clone(),
                except: None,
            }),
            ..NetworkPolicyPeer::default()
        },
        None => NetworkPolicyPeer {
            namespace_selector: p.namespace.as_deref().map(namespace_selector),
            pod_selector: p.pod_labels.clone().map(match_labels),
            ..NetworkPolicyPeer::default()
        },
    }
}

/// Ingress to the app's ports from its own namespace, the ingress controller and
/// `allow_from`; egress open, or limited to the cluster DNS and `egress`.
pub(super) fn network_policy(spec: &Spec) -> Option<NetworkPolicy> {
    let np = &spec.network_policy;
    if !np.enabled {
        return None;
    }
    let ports: Vec<NetworkPolicyPort> = spec
        .ports
        .iter()
        .map(|p| NetworkPolicyPort {
            port: Some(IntOrString::Int(to_i32(p.container_port))),
            protocol: Some(p.protocol.clone()),
            ..NetworkPolicyPort::default()
        })
        .collect();
    // A LoadBalancer or NodePort Service exposes the ports outside the cluster on purpose;
    // with `externalTrafficPolicy: Local` the sources are the clients' own addresses.
    let from_anywhere = matches!(spec.service.type_.as_str(), "LoadBalancer" | "NodePort");
    let ingress = (!ports.is_empty()).then(|| {
        let from = (!from_anywhere).then(|| {
            let mut peers = vec![NetworkPolicyPeer {
                pod_selector: Some(LabelSelector::default()),
                ..NetworkPolicyPeer::default()
            }];
            if spec.ingress.is_some() && !np.ingress_controller_namespace.is_empty() {
                peers.push(NetworkPolicyPeer {
                    namespace_selector: Some(namespace_selector(&np.ingress_controller_namespace)),
                    ..NetworkPolicyPeer::default()
                });
            }
            peers.extend(np.allow_from.iter().map(peer));
            peers
        });
        vec![NetworkPolicyIngressRule {
            from,
            ports: Some(ports),
        }]
    });
    let egress = np.egress.as_ref().map(|to| {
        let dns_port = |protocol: &str| NetworkPolicyPort {
            port: Some(IntOrString::Int(53)),
            protocol: Some(protocol.into()),
            ..NetworkPolicyPort::default()
        };
        let mut rules = vec![NetworkPolicyEgressRule {
            to: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(namespace_selector("kube-system")),
                pod_selector: Some(match_labels(BTreeMap::from([(
                    "k8s-app".to_string(),
                    "kube-dns".to_string(),
                )]))),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(vec![dns_port("UDP"), dns_port("TCP")]),
        }];
        if !to.is_empty() {
            rules.push(NetworkPolicyEgressRule {
                to: Some(to.iter().map(peer).collect()),
                ports: None,
            });
        }
        rules
    });
    let mut policy_types = vec!["Ingress".to_string()];
    if egress.is_some() {
        policy_types.push("Egress".into());
    }
    Some(NetworkPolicy {
        metadata: meta(spec, &spec.name, None),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(match_labels(selector(spec))),
            policy_types: Some(policy_types),
            ingress,
            egress,
        }),
    })
}

pub(super) fn service(spec: &Spec) -> Service {
    Service {
        metadata: meta(spec, &spec.name, spec.service.annotations.as_ref()),
        spec: Some(ServiceSpec {
            type_: Some(spec.service.type_.clone()),
            selector: Some(selector(spec)),
            external_traffic_policy: spec.service.external_traffic_policy.clone(),
            ports: Some(
                spec.ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(p.name.clone()),
                        port: to_i32(p.service_port),
                        target_port: Some(IntOrString::String(p.name.clone())),
                        protocol: Some(p.protocol.clone()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

pub(super) fn ingress(spec: &Spec) -> Option<Ingress> {
    let ing = spec.ingress.as_ref()?;
    let port = spec.ports.first()?;
    let mut annotations = ing.annotations.clone().unwrap_or_default();
    if ing.tls
        && let Some(issuer) = &ing.issuer
    {
        annotations.insert("cert-manager.io/cluster-issuer".into(), issuer.clone());
    }
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: spec.name.clone(),
            port: Some(ServiceBackendPort {
                name: Some(port.name.clone()),
                ..ServiceBackendPort::default()
            }),
        }),
        ..IngressBackend::default()
    };
    Some(Ingress {
        metadata: meta(spec, &spec.name, Some(&annotations)),
        spec: Some(IngressSpec {
            ingress_class_name: ing.class_name.clone(),
            rules: Some(
                ing.hosts
                    .iter()
                    .map(|h| IngressRule {
                        host: Some(h.clone()),
                        http: Some(HTTPIngressRuleValue {
                            paths: vec![HTTPIngressPath {
                                path: Some(ing.path.clone()),
                                path_type: "Prefix".into(),
                                backend: backend.clone(),
                            }],
                        }),
                    })
                    .collect(),
            ),
            tls: ing.tls.then(|| {
                vec![IngressTLS {
                    hosts: Some(ing.hosts.clone()),
                    secret_name: Some(tls_secret_name(&spec.name)),
                }]
            }),
            ..IngressSpec::default()
        }),
        ..Ingress::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::bundle::tests::{object, render_of};
    use crate::app::application::spec::{NetworkPolicyInput, ServiceInput};
    use crate::app::object::Kind;
    use serde_json::json;

    #[test]
    fn the_policy_admits_the_namespace_the_controller_and_allow_from_on_the_app_ports() {
        let ms = render_of(|i| {
            i.ingress = Some(crate::app::application::spec::IngressInput {
                hosts: Some(vec!["web.example.com".into()]),
                ..Default::default()
            });
            i.network_policy = Some(NetworkPolicyInput {
                allow_from: Some(vec![Peer {
                    namespace: Some("monitoring".into()),
                    ..Peer::default()
                }]),
                ..NetworkPolicyInput::default()
            });
        });
        let np = object(&ms, Kind::NetworkPolicy);
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress"]));
        let rule = &np["spec"]["ingress"][0];
        assert_eq!(rule["ports"], json!([{"port": 8080, "protocol": "TCP"}]));
        assert_eq!(
            rule["from"],
            json!([
                {"podSelector": {}},
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
            ])
        );
        // Without an ingress the controller is not let in.
        let np = object(&render_of(|_| {}), Kind::NetworkPolicy);
        assert_eq!(
            np["spec"]["ingress"][0]["from"],
            json!([{"podSelector": {}}])
        );
    }

    #[test]
    fn a_load_balancer_is_open_to_any_source_and_egress_is_limited_only_when_set() {
        let ms = render_of(|i| {
            i.service = Some(ServiceInput {
                type_: Some("LoadBalancer".into()),
                ..ServiceInput::default()
            });
            i.network_policy = Some(NetworkPolicyInput {
                egress: Some(vec![]),
                ..NetworkPolicyInput::default()
            });
        });
        let np = object(&ms, Kind::NetworkPolicy);
        assert!(np["spec"]["ingress"][0].get("from").is_none());
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        let egress = np["spec"]["egress"].as_array().cloned().unwrap_or_default();
        assert_eq!(egress.len(), 1, "only the DNS rule: {egress:?}");
        assert_eq!(egress[0]["ports"][0]["port"], json!(53));

        // A worker without ports accepts no traffic; a disabled policy is not rendered.
        let np = object(&render_of(|i| i.port = None), Kind::NetworkPolicy);
        assert!(np["spec"].get("ingress").is_none());
        let ms = render_of(|i| {
            i.network_policy = Some(NetworkPolicyInput {
                enabled: Some(false),
                ..NetworkPolicyInput::default()
            })
        });
        assert!(ms.iter().all(|m| m.kind != Kind::NetworkPolicy));
    }
}
