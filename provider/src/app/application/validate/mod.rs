//! Validation of a resolved [`Spec`]: every rule the API server (or common sense for a
//! production app) would enforce, checked at plan time with the attribute path to blame.
//!
//! Each problem names the paths it depends on, so the caller can drop problems that involve a
//! value not known until apply.
//!
//! This file holds the entry points and the app's identity (name, namespace, labels and
//! annotations); the other areas have a file each: `container.rs` (ports, env, resources,
//! probes), `scaling.rs` (replicas, autoscaling, disruption budget, rollout), `pod.rs`
//! (lifecycle, spreading, service account, security) and `network.rs` (service, ingress,
//! network policy).

mod container;
mod network;
mod pod;
mod scaling;

pub use pod::{BASELINE_CAPABILITIES, RESTRICTED_CAPABILITIES};

use super::spec::{Input, Spec, StringMap};
use crate::app::formats::{is_dns_label, is_label_value, is_qualified_name};
use crate::app::report::{FieldPath, Invalid, Report, Seg, path};
use container::{check_env, check_ports, check_probe, check_resources};
use network::{check_ingress, check_network_policy, check_service};
use pod::{check_lifecycle, check_security};
use scaling::{check_rollout, check_scaling};

/// Longest app name: derived objects append "-env" (Secret) and must stay DNS labels.
pub const MAX_NAME_LEN: usize = 59;

fn with(mut p: FieldPath, seg: Seg) -> FieldPath {
    p.push(seg);
    p
}

/// Problems visible only in what the user wrote (before defaults hide them).
pub fn validate_input(input: &Input) -> Vec<Invalid> {
    let mut r = Report::default();
    // Both may be set when they agree (as `terraform plan -generate-config-out` writes them).
    let agree = match (&input.port, input.ports.as_deref()) {
        (Some(p), Some([one])) => {
            one.container_port == Some(*p) && one.name.as_deref().is_none_or(|n| n == "http")
        }
        _ => false,
    };
    if input.port.is_some() && input.ports.is_some() && !agree {
        r.related(
            path(&["ports"]),
            vec![path(&["port"])],
            "Conflicting port settings",
            "set either port (one HTTP port) or ports (a list of ports), not both".to_string(),
        );
    }
    r.into_problems()
}

/// All problems with `spec`; empty when it can be applied.
pub fn validate(spec: &Spec) -> Vec<Invalid> {
    let mut r = Report::default();
    check_name(&mut r, spec);
    check_namespace(&mut r, &spec.namespace);
    if spec.image.trim().is_empty() || spec.image.contains(char::is_whitespace) {
        r.add(
            path(&["image"]),
            "Invalid image",
            format!(
                "image {:?} is not a container image reference; use e.g. \"nginx:1.27\" or \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:...\"",
                spec.image
            ),
        );
    }
    check_ports(&mut r, spec);
    check_env(&mut r, spec);
    check_resources(&mut r, spec);
    check_scaling(&mut r, spec);
    check_service(&mut r, spec);
    check_ingress(&mut r, spec);
    check_probe(&mut r, spec, "readiness_probe", Some(&spec.readiness_probe));
    check_probe(&mut r, spec, "liveness_probe", spec.liveness_probe.as_ref());
    check_probe(&mut r, spec, "startup_probe", spec.startup_probe.as_ref());
    check_lifecycle(&mut r, spec);
    check_metadata(&mut r, spec);
    check_rollout(&mut r, spec);
    check_security(&mut r, spec);
    check_network_policy(&mut r, spec);
    r.into_problems()
}

fn check_name(r: &mut Report, spec: &Spec) {
    let n = &spec.name;
    let starts_with_letter = n.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !is_dns_label(n) || !starts_with_letter {
        r.add(
            path(&["name"]),
            "Invalid application name",
            format!(
                "name {n:?} must be a DNS label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. \"web\", \"orders-api\")"
            ),
        );
    } else if n.len() > MAX_NAME_LEN {
        r.add(
            path(&["name"]),
            "Application name too long",
            format!(
                "name {n:?} has {} characters; at most {MAX_NAME_LEN} are accepted because derived objects (Secret \"{n}-env\") must stay within 63",
                n.len()
            ),
        );
    }
}

fn check_namespace(r: &mut Report, ns: &str) {
    if !is_dns_label(ns) {
        r.add(
            path(&["namespace"]),
            "Invalid namespace",
            format!("namespace {ns:?} must be a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"),
        );
    } else if ns.starts_with("kube-") {
        // The cluster's own namespaces (kube-system, kube-public, kube-node-lease), as
        // jke_cluster refuses them: an app there could replace a system component.
        r.add(
            path(&["namespace"]),
            "Reserved namespace",
            format!("namespace {ns:?} is reserved for the cluster itself (like kube-system, kube-public and kube-node-lease); put the app in a namespace of its own, e.g. \"shop\""),
        );
    }
}

/// Labels JKE sets itself; a user value would break selectors or pruning.
pub const RESERVED_LABELS: [&str; 3] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
];

fn check_metadata(r: &mut Report, spec: &Spec) {
    for (k, v) in spec.labels.iter().flatten() {
        let at = with(path(&["labels"]), Seg::Key(k.clone()));
        if RESERVED_LABELS.contains(&k.as_str()) {
            r.add(at, "Reserved label", format!("label {k:?} is set by JKE itself (it selects the app's pods); choose another key"));
        } else if !is_qualified_name(k) {
            r.add(at, "Invalid label key", format!("label key {k:?} must be a name of at most 63 letters, digits, '-', '_' or '.', optionally prefixed by a DNS name and '/' (e.g. \"team\", \"example.com/tier\")"));
        } else if !is_label_value(v) {
            r.add(at, "Invalid label value", format!("label {k:?} has value {v:?}; label values are at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"));
        }
    }
    // Every map whose keys become annotation or label keys: the API server refuses a bad one
    // at apply, after earlier objects were written.
    let maps: [(&[&str], Option<&StringMap>); 6] = [
        (&["annotations"], spec.annotations.as_ref()),
        (&["pod_annotations"], spec.pod_annotations.as_ref()),
        (&["node_selector"], spec.node_selector.as_ref()),
        (
            &["service", "annotations"],
            spec.service.annotations.as_ref(),
        ),
        (
            &["service_account", "annotations"],
            spec.service_account.annotations.as_ref(),
        ),
        (
            &["ingress", "annotations"],
            spec.ingress.as_ref().and_then(|i| i.annotations.as_ref()),
        ),
    ];
    for (attr, map) in maps {
        let name = attr.join(".");
        for (k, v) in map.into_iter().flatten() {
            let at = with(path(attr), Seg::Key(k.clone()));
            if !is_qualified_name(k) {
                r.add(at, "Invalid key", format!("{name} key {k:?} must be a name of at most 63 letters, digits, '-', '_' or '.', optionally prefixed by a DNS name and '/'"));
            } else if name != "node_selector" && k.starts_with("jke.dev/") {
                r.add(at, "Reserved annotation", format!("{name} key {k:?} is JKE's own (the owner mark and settings it writes); choose another key"));
            } else if name == "node_selector" && !is_label_value(v) {
                r.add(at, "Invalid node selector value", format!("node_selector {k:?} has value {v:?}; node labels are at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::spec::PortInput;

    use crate::app::application::spec::test_spec as spec;

    fn problems(s: &Spec) -> Vec<(String, String)> {
        validate(s)
            .into_iter()
            .map(|p| (format!("{:?}", p.path), p.detail))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(problems(&spec(|_| {})), vec![]);
    }

    #[test]
    fn each_bad_input_is_reported_at_its_path() {
        let s = spec(|i| i.memory = Some("2Gb".into()));
        let v = validate(&s);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, path(&["memory"]));
        assert!(v[0].detail.contains("\"2Gb\""));

        let s = spec(|i| {
            i.port = None;
            i.ports = Some(vec![
                PortInput {
                    container_port: Some(80),
                    ..Default::default()
                },
                PortInput {
                    container_port: Some(80),
                    ..Default::default()
                },
            ]);
        });
        let v = validate(&s);
        assert!(
            v.iter().any(|p| p.path
                == vec![
                    Seg::Attr("ports".into()),
                    Seg::Index(1),
                    Seg::Attr("container_port".into())
                ]),
            "{v:?}"
        );
    }

    #[test]
    fn a_setting_that_breaks_the_profile_names_the_profile_and_the_setting() {
        use crate::app::application::spec::SecurityInput;
        let s = spec(|i| {
            i.security = Some(SecurityInput {
                profile: Some("restricted".into()),
                run_as_user: Some(0),
                capabilities_add: Some(vec!["NET_BIND_SERVICE".into(), "NET_RAW".into()]),
                ..SecurityInput::default()
            })
        });
        let p = problems(&s);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].0.contains("run_as_user") && p[0].1.contains("\"restricted\""));
        assert!(
            p[1].0.contains("Index(1)")
                && p[1]
                    .1
                    .contains("\"NET_RAW\" breaks the profile \"restricted\"")
        );

        // Baseline allows the default container capabilities, not SYS_ADMIN; root is fine.
        let s = spec(|i| {
            i.security = Some(SecurityInput {
                run_as_user: Some(0),
                capabilities_add: Some(vec!["CHOWN".into(), "SYS_ADMIN".into()]),
                ..SecurityInput::default()
            })
        });
        let p = problems(&s);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].1
                .contains("\"SYS_ADMIN\" breaks the profile \"baseline\"")
        );

        let s = spec(|i| {
            i.security = Some(SecurityInput {
                profile: Some("privileged".into()),
                ..SecurityInput::default()
            })
        });
        let p = problems(&s);
        assert!(
            p[0].1
                .contains("\"baseline\" (the default) or \"restricted\""),
            "{p:?}"
        );
    }

    #[test]
    fn network_policy_peers_are_pods_or_an_address_range() {
        use crate::app::application::spec::{NetworkPolicyInput, Peer};
        let peer = |ns: Option<&str>, cidr: Option<&str>| Peer {
            namespace: ns.map(Into::into),
            pod_labels: None,
            cidr: cidr.map(Into::into),
        };
        let s = spec(|i| {
            i.network_policy = Some(NetworkPolicyInput {
                allow_from: Some(vec![
                    peer(Some("monitoring"), None),
                    peer(None, Some("10.0.0.0/8")),
                    peer(Some("x"), Some("10.0.0.0/8")),
                    peer(None, None),
                    peer(None, Some("10.0.0.0/33")),
                ]),
                egress: Some(vec![peer(Some("Bad_NS"), None)]),
                ..NetworkPolicyInput::default()
            })
        });
        let p = problems(&s);
        let details: Vec<&str> = p.iter().map(|(_, d)| d.as_str()).collect();
        assert_eq!(details.len(), 4, "{p:?}");
        assert!(details[0].starts_with("network_policy.allow_from[2] sets cidr with namespace"));
        assert!(details[1].starts_with("network_policy.allow_from[3] selects nothing"));
        assert!(details[2].starts_with("network_policy.allow_from[4].cidr \"10.0.0.0/33\""));
        assert!(details[3].starts_with("network_policy.egress[0].namespace \"Bad_NS\""));
    }

    #[test]
    fn an_ephemeral_storage_limit_below_its_request_is_refused() {
        let s = spec(|i| {
            i.ephemeral_storage = Some("4Gi".into());
            i.ephemeral_storage_limit = Some("1Gi".into());
        });
        let v = validate(&s);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, path(&["ephemeral_storage_limit"]));
    }

    #[test]
    fn one_port_number_may_serve_tcp_and_udp_and_a_budget_must_allow_evictions() {
        let port = |n: i64, protocol: &str| PortInput {
            container_port: Some(n),
            protocol: Some(protocol.into()),
            name: Some(format!("{}-{n}", protocol.to_lowercase())),
            ..Default::default()
        };
        let s = spec(|i| {
            i.port = None;
            i.ports = Some(vec![port(53, "UDP"), port(53, "TCP")]);
        });
        assert_eq!(problems(&s), vec![]);
        let s = spec(|i| {
            i.port = None;
            i.ports = Some(vec![port(53, "UDP"), port(53, "UDP")]);
        });
        assert!(
            problems(&s)[0]
                .1
                .contains("container_port 53 with protocol UDP")
        );

        use crate::app::application::spec::DisruptionBudgetInput;
        for (max, min) in [(Some("0%"), None), (None, Some("100%"))] {
            let s = spec(|i| {
                i.disruption_budget = Some(DisruptionBudgetInput {
                    max_unavailable: max.map(Into::into),
                    min_available: min.map(Into::into),
                    ..Default::default()
                })
            });
            let p = problems(&s);
            assert!(
                p.len() == 1 && p[0].1.contains("never lets a node drain evict a pod"),
                "{p:?}"
            );
        }
    }
}
