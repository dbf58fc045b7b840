//! Live objects -> spec fields and drift.
//!
//! Read takes back into the spec the fields users see as attributes (image, env, resources,
//! replicas, autoscaling, ports, service, ingress hosts, disruption budget, secret values);
//! everything else the provider sets is compared field by field with what the spec renders,
//! and differences go into the `drift` map, with every field another manager added to the
//! objects (`foreign_fields`). Import takes back everything it can.

use super::bundle::{self, SECRET_CHECKSUM};
use super::spec::{Ingress, Input, Peer, Port, Probe, Spec, StringMap};
use super::validate::RESERVED_LABELS;
use crate::app::foreign_fields::{self, Policy};
use crate::app::live_diff;
use crate::app::managed_fields::display;
use crate::app::object::{Kind, LABEL_MANAGED_BY, Manifest};
use crate::app::quantity::same_quantity;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Container, Probe as K8sProbe, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{
    Ingress as K8sIngress, NetworkPolicy as K8sNetworkPolicy, NetworkPolicyPeer,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;
use std::collections::BTreeMap;

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

/// Annotations controllers and kubectl write (never drift, never imported), and JKE's own
/// bookkeeping (restored separately).
const FOREIGN_ANNOTATION_PREFIXES: [&str; 4] = [
    "deployment.kubernetes.io/",
    "kubectl.kubernetes.io/",
    "autoscaling.alpha.kubernetes.io/",
    "jke.dev/",
];

fn foreign(k: &str) -> bool {
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

fn int_or_string(v: &IntOrString) -> String {
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
enum Depth {
    /// Only what maps to attributes users see (Read).
    Attributes,
    /// Everything that can be recovered (Import).
    Everything,
}

fn take_back(spec: &mut Spec, live: &Live, depth: Depth) {
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

fn probe_from(p: Option<&K8sProbe>, ports: &[Port]) -> Option<Probe> {
    let p = p?;
    let port_of = |v: &IntOrString| match v {
        IntOrString::Int(i) => Some(i64::from(*i)),
        IntOrString::String(n) => ports
            .iter()
            .find(|x| &x.name == n)
            .map(|x| x.container_port),
    };
    let (http_path, port) = match (&p.http_get, &p.tcp_socket) {
        (Some(h), _) => (h.path.clone(), port_of(&h.port)),
        (None, Some(t)) => (None, port_of(&t.port)),
        _ => return None,
    };
    Some(Probe {
        enabled: true,
        tcp: http_path.is_none(),
        http_path,
        port,
        initial_delay_seconds: i64::from(p.initial_delay_seconds.unwrap_or(0)),
        period_seconds: i64::from(p.period_seconds.unwrap_or(10)),
        timeout_seconds: i64::from(p.timeout_seconds.unwrap_or(1)),
        failure_threshold: i64::from(p.failure_threshold.unwrap_or(3)),
        success_threshold: i64::from(p.success_threshold.unwrap_or(1)),
    })
}

fn take_back_pod(spec: &mut Spec, d: &Deployment, c: &Container) {
    spec.command = c.command.clone();
    spec.args = c.args.clone();
    let mut readiness = probe_from(c.readiness_probe.as_ref(), &spec.ports);
    if readiness.is_none() {
        readiness = Some(Probe {
            enabled: false,
            ..spec.readiness_probe.clone()
        });
    }
    if let Some(r) = readiness {
        spec.readiness_probe = r;
    }
    spec.liveness_probe = probe_from(c.liveness_probe.as_ref(), &spec.ports);
    spec.startup_probe = probe_from(c.startup_probe.as_ref(), &spec.ports);
    spec.pre_stop_sleep = c
        .lifecycle
        .as_ref()
        .and_then(|l| l.pre_stop.as_ref())
        .and_then(|h| h.sleep.as_ref())
        .map(|s| s.seconds)
        .unwrap_or(0);
    if let Some(side) = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(bundle::SETTINGS))
        .and_then(|v| serde_json::from_str::<bundle::ProviderSide>(v).ok())
    {
        side.restore(spec);
    }
    let Some(ds) = d.spec.as_ref() else { return };
    if let Some(pd) = ds.progress_deadline_seconds {
        spec.rollout.progress_deadline_seconds = i64::from(pd);
    }
    if let Some(ru) = ds.strategy.as_ref().and_then(|s| s.rolling_update.as_ref()) {
        if let Some(v) = &ru.max_surge {
            spec.rollout.max_surge = int_or_string(v);
        }
        if let Some(v) = &ru.max_unavailable {
            spec.rollout.max_unavailable = int_or_string(v);
        }
    }
    let labels: StringMap = d
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !RESERVED_LABELS.contains(&k.as_str()))
        .collect();
    spec.labels = Some(labels).filter(|l| !l.is_empty());
    spec.annotations = d
        .metadata
        .annotations
        .clone()
        .map(|a| {
            a.into_iter()
                .filter(|(k, _)| !foreign(k))
                .collect::<StringMap>()
        })
        .filter(|a| !a.is_empty());
    let tmpl = &ds.template;
    spec.pod_annotations = tmpl
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.clone())
        .map(|a| {
            a.into_iter()
                .filter(|(k, _)| !foreign(k) && k != SECRET_CHECKSUM)
                .collect::<StringMap>()
        })
        .filter(|a| !a.is_empty());
    if let Some(pod) = &tmpl.spec {
        if let Some(t) = pod.termination_grace_period_seconds {
            spec.termination_grace_period = t;
        }
        spec.node_selector = pod.node_selector.clone().filter(|n| !n.is_empty());
        if let Some(a) = pod.automount_service_account_token {
            spec.service_account.automount_token = a;
        }
        let psc = pod.security_context.as_ref();
        let csc = c.security_context.as_ref();
        let restricted = psc.and_then(|p| p.run_as_non_root).unwrap_or(false)
            || csc.and_then(|c| c.run_as_non_root).unwrap_or(false);
        let sec = &mut spec.security;
        sec.profile = if restricted { "restricted" } else { "baseline" }.into();
        sec.run_as_user = csc.and_then(|c| c.run_as_user);
        sec.run_as_group = csc.and_then(|c| c.run_as_group);
        sec.fs_group = psc.and_then(|p| p.fs_group);
        sec.read_only_root_filesystem = csc
            .and_then(|c| c.read_only_root_filesystem)
            .unwrap_or(false);
        sec.capabilities_add = csc
            .and_then(|c| c.capabilities.as_ref())
            .and_then(|c| c.add.clone())
            .unwrap_or_default();
        if let Some(sa) = &pod.service_account_name {
            spec.service_account.name = sa.clone();
        }
        let constraints = pod
            .topology_spread_constraints
            .as_deref()
            .unwrap_or_default();
        let node_key = super::spec::defaults::NODE_KEY;
        match constraints.first() {
            Some(t) => {
                spec.topology_spread.enabled = true;
                spec.topology_spread.max_skew = i64::from(t.max_skew);
                spec.topology_spread.topology_key = t.topology_key.clone();
                spec.topology_spread.spread_nodes =
                    constraints.iter().any(|c| c.topology_key == node_key);
            }
            None => spec.topology_spread.enabled = false,
        }
    }
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
    use crate::app::application::spec::Input;

    const POLICY: Policy = Policy {
        own_manager: "jke",
        ignore: &[],
    };

    fn web() -> Spec {
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

    fn live_of(spec: &Spec) -> Live {
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
