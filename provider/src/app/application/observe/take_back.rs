//! Live objects -> spec fields: what Read takes back into attributes, and what Import
//! recovers of the Service, autoscaler, budget, ingress, Secret and network policy.

use super::Live;
use super::bundle;
use super::pod::take_back_pod;
use crate::app::application::spec::{Ingress, Peer, Port, Spec, StringMap};
use crate::app::object::Kind;
use crate::app::quantity::same_quantity;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Container, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{
    Ingress as K8sIngress, NetworkPolicy as K8sNetworkPolicy, NetworkPolicyPeer,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Annotations controllers and kubectl write (never drift, never imported), and JKE's own
/// bookkeeping (restored separately).
const FOREIGN_ANNOTATION_PREFIXES: [&str; 4] = [
    "deployment.kubernetes.io/",
    "kubectl.kubernetes.io/",
    "autoscaling.alpha.kubernetes.io/",
    "jke.dev/",
];

pub(super) fn foreign(k: &str) -> bool {
    FOREIGN_ANNOTATION_PREFIXES.iter().any(|p| k.starts_with(p))
}

/// A live object's annotations without those other tools and JKE itself (the owner mark)
/// write, as the user's setting.
fn own_annotations(a: Option<StringMap>) -> Option<StringMap> {
    a.map(|a| {
        a.into_iter()
            .filter(|(k, _)| !foreign(k))
            .collect::<StringMap>()
    })
    .filter(|a| !a.is_empty())
}

fn app_container<'a>(d: &'a Deployment, name: &str) -> Option<&'a Container> {
    let cs = &d.spec.as_ref()?.template.spec.as_ref()?.containers;
    cs.iter().find(|c| c.name == name).or_else(|| cs.first())
}

pub(super) fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Keep the prior spelling when the live quantity has the same value ("1" vs "1000m").
fn quantity(prior: &str, live: Option<&str>) -> String {
    match live {
        Some(l) if !same_quantity(prior, l) => l.to_string(),
        _ => prior.to_string(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Depth {
    /// Only what maps to attributes users see (Read).
    Attributes,
    /// Everything that can be recovered (Import).
    Everything,
}

pub(super) fn take_back(spec: &mut Spec, live: &Live, depth: Depth) {
    let name = spec.name.clone();
    if depth == Depth::Everything {
        // Replicas are the app's own only without an autoscaler.
        spec.autoscale.enabled = live.objects.contains_key(&Kind::HorizontalPodAutoscaler);
    }
    if let Some(d) = live.typed::<Deployment>(Kind::Deployment) {
        if let Some(c) = app_container(&d, &name) {
            if let Some(img) = &c.image {
                spec.image = img.clone();
            }
            let env: StringMap = c
                .env
                .iter()
                .flatten()
                .filter_map(|e| e.value.as_ref().map(|v| (e.name.clone(), v.clone())))
                .collect();
            if !(env.is_empty() && spec.env.as_ref().is_none_or(|m| m.is_empty())) {
                spec.env = Some(env);
            }
            let res = c.resources.as_ref();
            let get = |which: &str, r: &str| {
                res.and_then(|x| {
                    if which == "requests" {
                        x.requests.as_ref()
                    } else {
                        x.limits.as_ref()
                    }
                })
                .and_then(|m| m.get(r))
                .map(|q| q.0.clone())
            };
            spec.cpu = quantity(&spec.cpu, get("requests", "cpu").as_deref());
            spec.memory = quantity(&spec.memory, get("requests", "memory").as_deref());
            spec.cpu_limit = quantity(&spec.cpu_limit, get("limits", "cpu").as_deref());
            spec.memory_limit = quantity(&spec.memory_limit, get("limits", "memory").as_deref());
            spec.ephemeral_storage = quantity(
                &spec.ephemeral_storage,
                get("requests", "ephemeral-storage").as_deref(),
            );
            spec.ephemeral_storage_limit = quantity(
                &spec.ephemeral_storage_limit,
                get("limits", "ephemeral-storage").as_deref(),
            );
            take_back_ports(spec, c, live.typed::<Service>(Kind::Service).as_ref());
            if depth == Depth::Everything {
                take_back_pod(spec, &d, c);
            }
        }
        if !spec.autoscale.enabled
            && let Some(r) = d.spec.as_ref().and_then(|s| s.replicas)
        {
            spec.replicas = i64::from(r);
        }
    }
    if let Some(h) = live.typed::<HorizontalPodAutoscaler>(Kind::HorizontalPodAutoscaler)
        && let Some(s) = h.spec
    {
        spec.autoscale.enabled = true;
        spec.autoscale.min_replicas = i64::from(s.min_replicas.unwrap_or(1));
        spec.autoscale.max_replicas = i64::from(s.max_replicas);
        let target = |r: &str| {
            s.metrics.iter().flatten().find_map(|m| {
                m.resource
                    .as_ref()
                    .filter(|x| x.name == r)
                    .and_then(|x| x.target.average_utilization)
                    .map(i64::from)
            })
        };
        spec.autoscale.target_cpu_utilization = target("cpu");
        spec.autoscale.target_memory_utilization = target("memory");
    }
    if let Some(svc) = live.typed::<Service>(Kind::Service).and_then(|s| s.spec) {
        if let Some(t) = svc.type_ {
            spec.service.type_ = t;
        }
        spec.service.external_traffic_policy = if spec.service.type_ == "ClusterIP" {
            None
        } else {
            svc.external_traffic_policy
                .or(spec.service.external_traffic_policy.clone())
        };
    }
    if depth == Depth::Everything
        && let Some(annotations) = live
            .typed::<Service>(Kind::Service)
            .map(|s| s.metadata.annotations)
    {
        spec.service.annotations = own_annotations(annotations);
    }
    if let Some(ing) = live.typed::<K8sIngress>(Kind::Ingress) {
        let hosts: Vec<String> = ing
            .spec
            .as_ref()
            .and_then(|s| s.rules.as_ref())
            .map(|rs| rs.iter().filter_map(|r| r.host.clone()).collect())
            .unwrap_or_default();
        match (&mut spec.ingress, depth) {
            (Some(i), Depth::Attributes) => i.hosts = hosts,
            (_, Depth::Everything) => spec.ingress = Some(ingress_from(&ing, hosts)),
            _ => {}
        }
    }
    if let Some(p) = live
        .typed::<PodDisruptionBudget>(Kind::PodDisruptionBudget)
        .and_then(|p| p.spec)
    {
        spec.disruption_budget.enabled = true;
        spec.disruption_budget.max_unavailable = p.max_unavailable.as_ref().map(int_or_string);
        spec.disruption_budget.min_available = p.min_available.as_ref().map(int_or_string);
    }
    if let Some(s) = live.typed::<Secret>(Kind::Secret) {
        let data: StringMap = s
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
            .collect();
        match depth {
            Depth::Attributes => {
                if let Some(own) = &mut spec.secret_env {
                    own.retain(|k, _| data.contains_key(k));
                    for (k, v) in own.iter_mut() {
                        if let Some(live_v) = data.get(k) {
                            v.clone_from(live_v);
                        }
                    }
                }
            }
            Depth::Everything => spec.secret_env = Some(data).filter(|d| !d.is_empty()),
        }
    }
    if depth == Depth::Everything {
        if let Some(sa) = live.typed::<ServiceAccount>(Kind::ServiceAccount) {
            spec.service_account.create = true;
            spec.service_account.annotations = own_annotations(sa.metadata.annotations);
        } else {
            spec.service_account.create = false;
        }
        spec.autoscale.enabled = live.objects.contains_key(&Kind::HorizontalPodAutoscaler);
        spec.disruption_budget.enabled = live.objects.contains_key(&Kind::PodDisruptionBudget);
        take_back_network_policy(spec, live.typed::<K8sNetworkPolicy>(Kind::NetworkPolicy));
    }
}

/// The peer JKE would render for `p`, if it is one (label selectors with expressions or
/// address blocks with exceptions are not).
fn peer_from(p: &NetworkPolicyPeer) -> Option<Peer> {
    let labels = |s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector| {
        s.match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
            .then(|| s.match_labels.clone().unwrap_or_default())
    };
    if let Some(b) = &p.ip_block {
        return b
            .except
            .as_ref()
            .is_none_or(|e| e.is_empty())
            .then(|| Peer {
                cidr: Some(b.cidr.clone()),
                ..Peer::default()
            });
    }
    let namespace = match &p.namespace_selector {
        Some(s) => {
            let l = labels(s)?;
            Some(l.get(bundle::NAMESPACE_NAME_LABEL)?.clone()).filter(|_| l.len() == 1)?
        }
        None => {
            return labels(p.pod_selector.as_ref()?).map(|l| Peer {
                pod_labels: Some(l),
                ..Peer::default()
            });
        }
    };
    let pod_labels = match &p.pod_selector {
        Some(s) => Some(labels(s)?),
        None => None,
    };
    Some(Peer {
        namespace: Some(namespace),
        pod_labels,
        cidr: None,
    })
}

/// Import: the policy's own-namespace and ingress-controller sources are JKE's; the other
/// sources are `allow_from`, and an Egress policy's destinations after the DNS rule are
/// `egress`.
fn take_back_network_policy(spec: &mut Spec, np: Option<K8sNetworkPolicy>) {
    let Some(s) = np.and_then(|n| n.spec) else {
        spec.network_policy.enabled = false;
        return;
    };
    let np = &mut spec.network_policy;
    np.enabled = true;
    let controller = np.ingress_controller_namespace.clone();
    let from: Vec<Peer> = s
        .ingress
        .iter()
        .flatten()
        .flat_map(|r| r.from.iter().flatten())
        .filter_map(peer_from)
        .filter(|p| p.pod_labels.as_ref().is_none_or(|l| !l.is_empty()))
        .filter(|p| {
            !(p.pod_labels.is_none()
                && p.cidr.is_none()
                && p.namespace.as_ref() == Some(&controller))
        })
        .collect();
    np.allow_from = from;
    let is_egress = s
        .policy_types
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "Egress"));
    np.egress = is_egress.then(|| {
        s.egress
            .iter()
            .flatten()
            .skip(1)
            .flat_map(|r| r.to.iter().flatten())
            .filter_map(peer_from)
            .collect()
    });
}

fn take_back_ports(spec: &mut Spec, c: &Container, svc: Option<&Service>) {
    let svc_ports = svc
        .and_then(|s| s.spec.as_ref())
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let live: Vec<Port> = c
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let name = p.name.clone().unwrap_or_default();
            let service_port = svc_ports
                .iter()
                .find(|sp| {
                    sp.target_port.as_ref().map(int_or_string).as_deref() == Some(name.as_str())
                        || sp.name.as_deref() == Some(name.as_str())
                })
                .map(|sp| i64::from(sp.port))
                .unwrap_or(i64::from(p.container_port));
            Port {
                name,
                container_port: i64::from(p.container_port),
                service_port,
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            }
        })
        .collect();
    if live == spec.ports {
        return;
    }
    // `port` is the one-port shorthand: keep using it when the live app still fits it.
    spec.port = match live.as_slice() {
        [one]
            if one.name == "http"
                && one.service_port == one.container_port
                && spec.port.is_some() =>
        {
            Some(one.container_port)
        }
        _ if spec.port.is_some() => live.first().map(|p| p.container_port),
        _ => None,
    };
    spec.ports = live;
}

fn ingress_from(ing: &K8sIngress, hosts: Vec<String>) -> Ingress {
    let s = ing.spec.as_ref();
    let path = s
        .and_then(|s| s.rules.as_ref())
        .and_then(|r| r.first())
        .and_then(|r| r.http.as_ref())
        .and_then(|h| h.paths.first())
        .and_then(|p| p.path.clone())
        .unwrap_or_else(|| "/".into());
    let mut annotations = own_annotations(ing.metadata.annotations.clone()).unwrap_or_default();
    let issuer = annotations.remove("cert-manager.io/cluster-issuer");
    let tls = s
        .and_then(|s| s.tls.as_ref())
        .is_some_and(|t| !t.is_empty());
    Ingress {
        hosts,
        path,
        class_name: s.and_then(|s| s.ingress_class_name.clone()),
        tls,
        issuer,
        annotations: Some(annotations).filter(|a| !a.is_empty()),
    }
}
