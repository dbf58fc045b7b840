//! Live objects -> spec fields and drift.
//!
//! Read takes back into the spec the fields users see as attributes (image, env, resources,
//! replicas, autoscaling, ports, service, ingress hosts, disruption budget, secret values);
//! everything else the provider sets is compared field by field with what the spec renders,
//! and differences go into the `drift` map, with every field another manager added to the
//! objects (`foreign_fields`). Import takes back everything it can.
//!
//! This file holds the entry points (`observe`, `drift`, `import`) and what import takes
//! over; the take-back of live fields is in `take_back.rs` (the pod template's in `pod.rs`),
//! and what import cannot hold in `left_out.rs`.

mod left_out;
mod pod;
mod take_back;

pub use left_out::left_out;

use super::bundle;
use super::spec::{Input, Spec};
use crate::app::foreign_fields::{self, Policy};
use crate::app::live_diff;
use crate::app::managed_fields::display;
use crate::app::object::{Kind, LABEL_MANAGED_BY, Manifest};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use take_back::{Depth, take_back};

/// Live objects of one app, by kind (absent kinds were not found).
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub objects: BTreeMap<Kind, Json>,
}

impl Live {
    fn typed<T: serde::de::DeserializeOwned>(&self, k: Kind) -> Option<T> {
        self.objects
            .get(&k)
            .and_then(|j| serde_json::from_value(j.clone()).ok())
    }
}

/// What Read found.
#[derive(Debug, PartialEq)]
pub enum Observed {
    /// Nothing of the app exists any more: Terraform should plan to create it.
    Gone,
    Present {
        spec: Box<Spec>,
        /// What the observed spec renders (its objects list comes from these).
        objects: Vec<Manifest>,
        drift: BTreeMap<String, String>,
    },
}

/// Compare what `spec` renders with the live objects: the fields the provider sets, by
/// value, and the fields other managers added (from each object's managed fields), leaving
/// out what `policy` ignores. A namespace is shared by many apps: its existence is not this
/// app's drift, so a rendered Namespace is skipped.
pub fn drift(expected: &[Manifest], live: &Live, policy: &Policy) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for m in expected.iter().filter(|m| m.kind != Kind::Namespace) {
        let Some(l) = live.objects.get(&m.kind) else {
            out.insert(m.key(), "deleted".to_string());
            continue;
        };
        let changed = live_diff::differences_at(&m.object, l, |p| p.contains("resources."))
            .into_iter()
            .filter(|(p, _)| !policy.ignores_difference(l, p))
            .map(|(p, v)| {
                let by = foreign_fields::owners(l, &p, policy);
                let v = if by.is_empty() || v == "(removed)" {
                    v
                } else {
                    format!("{v} (set by {})", by.join(", "))
                };
                (display(&p), v)
            });
        for (path, value) in changed.chain(foreign_fields::drift(l, &m.object, policy)) {
            let secret = m.kind == Kind::Secret
                && (path.starts_with("data") || path.starts_with("stringData"));
            let shown = if secret {
                "(sensitive value)".to_string()
            } else {
                value
            };
            out.insert(format!("{}: {path}", m.key()), shown);
        }
    }
    out
}

/// Read: take attribute fields back from the live objects, and report the rest as drift.
pub fn observe(prior: &Spec, live: &Live, policy: &Policy) -> Observed {
    if live.objects.is_empty()
        || (live.objects.len() == 1 && live.objects.contains_key(&Kind::Namespace))
    {
        return Observed::Gone;
    }
    // What the platform lets other tools add (a sidecar, an injected env entry) is not the
    // app's: leave it out before reading attributes back.
    let before = bundle::render(prior);
    let live = &Live {
        objects: live
            .objects
            .iter()
            .map(|(k, l)| {
                let rendered = before.iter().find(|m| m.kind == *k).map(|m| &m.object);
                let kept = match rendered {
                    Some(r) => foreign_fields::without_ignored(l, r, policy),
                    None => l.clone(),
                };
                (*k, kept)
            })
            .collect(),
    };
    let mut spec = prior.clone();
    take_back(&mut spec, live, Depth::Attributes);
    let objects = bundle::render(&spec);
    let drift = drift(&objects, live, policy);
    Observed::Present {
        spec: Box::new(spec),
        objects,
        drift,
    }
}

/// Import: rebuild a spec from the live objects (Deployment required) over `defaults`.
pub fn import(namespace: &str, name: &str, live: &Live, defaults: &Input) -> Option<Spec> {
    live.objects.get(&Kind::Deployment)?;
    let input = Input {
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
        ..Input::default()
    };
    let mut spec = Spec::resolve(&input, defaults);
    take_back(&mut spec, live, Depth::Everything);
    if spec.ports.len() == 1
        && spec.ports[0].name == "http"
        && spec.ports[0].service_port == spec.ports[0].container_port
    {
        spec.port = Some(spec.ports[0].container_port);
    }
    if !spec.readiness_probe.enabled && spec.ports.is_empty() {
        // An app without ports has no default probe: keep the resolved (disabled) default.
        spec.readiness_probe.port = None;
    }
    Some(spec)
}

/// The settings a Deployment JKE did not make carries into its generated configuration:
/// what its owner chose (image, ports, env, resources, replicas/autoscaling, probes, service,
/// ingress, labels and annotations, node selector, grace period). Everything else is left to
/// JKE's defaults (disruption budget, network policy, service account, security, spreading,
/// rollout, pre-stop drain), which the plan then shows as changes.
pub const TAKEN_OVER: [&str; 25] = [
    "name",
    "namespace",
    "image",
    "command",
    "args",
    "port",
    "ports",
    "env",
    "secret_env",
    "cpu",
    "memory",
    "cpu_limit",
    "memory_limit",
    "replicas",
    "autoscale",
    "readiness_probe",
    "liveness_probe",
    "startup_probe",
    "service",
    "ingress",
    "labels",
    "annotations",
    "pod_annotations",
    "node_selector",
    "termination_grace_period",
];

/// Whether the drift of an app's objects says JKE made its Deployment: a Deployment
/// without JKE's `managed-by` label was made by someone else (kubectl, Helm).
pub fn made_by_jke(drift: &BTreeMap<String, String>) -> bool {
    let label = format!("metadata.labels.{LABEL_MANAGED_BY}");
    !drift
        .keys()
        .any(|k| k.starts_with("Deployment/") && k.ends_with(&label))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::spec::{Input, StringMap};

    const POLICY: Policy = Policy {
        own_manager: "jke",
        ignore: &[],
    };

    pub(super) fn web() -> Spec {
        Spec::resolve(
            &Input {
                name: Some("web".into()),
                image: Some("nginx:1.27".into()),
                port: Some(80),
                ..Input::default()
            },
            &Input::default(),
        )
    }

    pub(super) fn live_of(spec: &Spec) -> Live {
        Live {
            objects: bundle::render(spec)
                .into_iter()
                .map(|m| (m.kind, m.object))
                .collect(),
        }
    }

    #[test]
    fn untouched_objects_show_no_drift() {
        let s = web();
        assert_eq!(
            observe(&s, &live_of(&s), &POLICY),
            Observed::Present {
                spec: Box::new(s.clone()),
                objects: bundle::render(&s),
                drift: BTreeMap::new()
            }
        );
    }

    #[test]
    fn a_changed_image_comes_back_into_the_attribute() {
        let s = web();
        let mut live = live_of(&s);
        if let Some(d) = live.objects.get_mut(&Kind::Deployment) {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:1".into();
        }
        match observe(&s, &live, &POLICY) {
            Observed::Present { spec, drift, .. } => {
                assert_eq!(spec.image, "evil:1");
                assert!(drift.is_empty(), "{drift:?}");
            }
            Observed::Gone => panic!("app is there"),
        }
    }

    #[test]
    fn equal_quantities_in_other_spellings_are_not_drift() {
        let s = web();
        let mut live = live_of(&s);
        if let Some(d) = live.objects.get_mut(&Kind::Deployment) {
            d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] =
                "1000m".into();
            d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] =
                "2048Mi".into();
            d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "3".into();
        }
        assert_eq!(
            observe(&s, &live, &POLICY),
            Observed::Present {
                spec: Box::new(s.clone()),
                objects: bundle::render(&s),
                drift: BTreeMap::new()
            }
        );
    }

    #[test]
    fn changed_probe_and_deleted_pdb_go_into_the_drift_map() {
        let s = web();
        let mut live = live_of(&s);
        live.objects.remove(&Kind::PodDisruptionBudget);
        if let Some(d) = live.objects.get_mut(&Kind::Deployment) {
            d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSeconds"] =
                99.into();
        }
        let Observed::Present { drift, .. } = observe(&s, &live, &POLICY) else {
            panic!("app is there")
        };
        assert_eq!(
            drift.get("PodDisruptionBudget/web").map(String::as_str),
            Some("deleted")
        );
        assert_eq!(
            drift
                .get(
                    "Deployment/web: spec.template.spec.containers[name=web].readinessProbe.periodSeconds"
                )
                .map(String::as_str),
            Some("99")
        );
    }

    #[test]
    fn a_created_namespace_is_not_read_as_part_of_the_app() {
        let mut s = web();
        s.create_namespace = true;
        let mut live = live_of(&s);
        live.objects.remove(&Kind::Namespace);
        let Observed::Present { drift, .. } = observe(&s, &live, &POLICY) else {
            panic!("app is there")
        };
        assert!(drift.is_empty(), "{drift:?}");
    }

    #[test]
    fn nothing_left_means_gone() {
        assert_eq!(observe(&web(), &Live::default(), &POLICY), Observed::Gone);
    }

    #[test]
    fn import_rebuilds_the_spec_that_made_the_objects() {
        let s = web();
        let imported = import("default", "web", &live_of(&s), &Input::default());
        assert_eq!(imported, Some(s));
    }

    #[test]
    fn import_without_an_autoscaler_keeps_the_deployments_replicas() {
        let s = web();
        let mut live = live_of(&s);
        live.objects.remove(&Kind::HorizontalPodAutoscaler);
        if let Some(d) = live.objects.get_mut(&Kind::Deployment) {
            d["spec"]["replicas"] = 3.into();
        }
        let imported = import("default", "web", &live, &Input::default());
        let i = imported.as_ref().map(|i| (i.replicas, i.autoscale.enabled));
        assert_eq!(i, Some((3, false)));
    }

    #[test]
    fn import_takes_back_the_security_and_network_settings() {
        use crate::app::application::spec::{
            NetworkPolicyInput, Peer, SecurityInput, ServiceAccountInput,
        };
        let platform = Input {
            security: Some(SecurityInput {
                profile: Some("restricted".into()),
                run_as_user: Some(10001),
                fs_group: Some(2000),
                capabilities_add: Some(vec!["NET_BIND_SERVICE".into()]),
                ..SecurityInput::default()
            }),
            network_policy: Some(NetworkPolicyInput {
                allow_from: Some(vec![Peer {
                    namespace: Some("monitoring".into()),
                    pod_labels: Some(StringMap::from([("app".into(), "prometheus".into())])),
                    cidr: None,
                }]),
                egress: Some(vec![Peer {
                    cidr: Some("10.0.0.0/8".into()),
                    ..Peer::default()
                }]),
                ..NetworkPolicyInput::default()
            }),
            ..Input::default()
        };
        let s = Spec::resolve(
            &Input {
                name: Some("api".into()),
                image: Some("api:1".into()),
                port: Some(8080),
                service_account: Some(ServiceAccountInput {
                    automount_token: Some(true),
                    ..ServiceAccountInput::default()
                }),
                ..Input::default()
            },
            &platform,
        );
        // Imported over no defaults: everything comes from the objects.
        let imported = import("default", "api", &live_of(&s), &Input::default());
        assert_eq!(imported, Some(s));
    }

    #[test]
    fn an_edited_network_policy_and_a_privileged_container_are_drift() {
        let s = web();
        let mut live = live_of(&s);
        if let Some(np) = live.objects.get_mut(&Kind::NetworkPolicy) {
            np["spec"]["ingress"][0]["ports"][0]["port"] = serde_json::json!(9090);
        }
        if let Some(d) = live.objects.get_mut(&Kind::Deployment) {
            d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] =
                serde_json::json!(true);
            d["spec"]["template"]["spec"]["hostNetwork"] = serde_json::json!(true);
        }
        let Observed::Present { drift, .. } = observe(&s, &live, &POLICY) else {
            panic!("app is present");
        };
        assert_eq!(
            drift
                .get("NetworkPolicy/web: spec.ingress[0].ports[0].port")
                .map(String::as_str),
            Some("9090")
        );
        assert_eq!(
            drift
                .get("Deployment/web: spec.template.spec.containers[name=web].securityContext.privileged")
                .map(String::as_str),
            Some("true")
        );
        assert_eq!(
            drift
                .get("Deployment/web: spec.template.spec.hostNetwork")
                .map(String::as_str),
            Some("true")
        );
        live.objects.remove(&Kind::NetworkPolicy);
        let Observed::Present { drift, .. } = observe(&s, &live, &POLICY) else {
            panic!("app is present");
        };
        assert_eq!(
            drift.get("NetworkPolicy/web").map(String::as_str),
            Some("deleted")
        );
    }

    #[test]
    fn a_container_injected_first_is_an_added_item_not_a_change_of_the_apps() {
        let s = web();
        let mut live = live_of(&s);
        if let Some(d) = live.objects.get_mut(&Kind::Deployment) {
            let spec = &mut d["spec"]["template"]["spec"];
            if let Some(cs) = spec["containers"].as_array_mut() {
                cs.insert(0, serde_json::json!({"name": "miner", "image": "busybox"}));
            }
            spec["containers"][1]["env"] = serde_json::json!([{"name": "DEBUG", "value": "1"}]);
            d["metadata"]["managedFields"] = serde_json::json!([{
                "manager": "kubectl-patch", "operation": "Update", "apiVersion": "apps/v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"miner\"}": {".": {}, "f:name": {}, "f:image": {}},
                    "k:{\"name\":\"web\"}": {"f:env": {"k:{\"name\":\"DEBUG\"}": {".": {}, "f:name": {}, "f:value": {}}}}
                }}}}}
            }]);
        }
        let Observed::Present { spec, drift, .. } = observe(&s, &live, &POLICY) else {
            panic!("app is present");
        };
        assert_eq!(
            drift,
            BTreeMap::from([(
                "Deployment/web: spec.template.spec.containers[name=miner]".to_string(),
                r#"{"image":"busybox","name":"miner"} (set by kubectl-patch)"#.to_string()
            )])
        );
        // The env entry is an attribute: it comes back into `env` (and the plan removes it).
        assert_eq!(spec.image, "nginx:1.27");
        assert_eq!(
            spec.env,
            Some(StringMap::from([("DEBUG".to_string(), "1".to_string())]))
        );

        // Left alone by the platform: neither drift nor taken back.
        let rules = [crate::app::foreign_fields::IgnoreRule {
            manager: Some("kubectl-patch".into()),
            path: None,
        }];
        let p = Policy {
            own_manager: "jke",
            ignore: &rules,
        };
        let Observed::Present { spec, drift, .. } = observe(&s, &live, &p) else {
            panic!("app is present");
        };
        assert!(drift.is_empty(), "{drift:?}");
        assert_eq!(spec.env, s.env);
    }
}
