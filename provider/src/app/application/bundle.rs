//! Spec -> the Kubernetes objects of one app. Pure and deterministic: the same spec always
//! renders the same objects (maps are ordered), so golden files and drift checks are stable.

use super::spec::{Peer, Probe, Spec, StringMap};
use crate::app::object::{Kind, LABEL_MANAGED_BY, MANAGED_BY, Manifest};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource, EnvVar,
    HTTPGetAction, Lifecycle, LifecycleHandler, Namespace, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe as K8sProbe, ResourceRequirements, SeccompProfile, Secret,
    SecretEnvSource, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec,
    SleepAction, TCPSocketAction, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, IPBlock, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyEgressRule,
    NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
    ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
/// Pod-template annotation that changes when secret values change, so pods restart.
pub const SECRET_CHECKSUM: &str = "jke.dev/secret-checksum";
/// Deployment annotation with the settings that act in the provider, not in the cluster
/// (rollout waiting, the write-only version, namespace creation), so import restores them.
pub const SETTINGS: &str = "jke.dev/settings";

/// The provider-side settings recorded in [`SETTINGS`].
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize, PartialEq)]
pub struct ProviderSide {
    pub rollout_wait: bool,
    pub rollout_timeout: String,
    pub rollback_on_failure: bool,
    pub secret_env_version: Option<i64>,
    pub create_namespace: bool,
}

impl ProviderSide {
    pub fn of(spec: &Spec) -> Self {
        ProviderSide {
            rollout_wait: spec.rollout.wait,
            rollout_timeout: spec.rollout.timeout.clone(),
            rollback_on_failure: spec.rollout.rollback_on_failure,
            secret_env_version: spec.secret_env_version,
            create_namespace: spec.create_namespace,
        }
    }
    /// How long a restart waits for the app's pods: its own rollout timeout as recorded on
    /// its Deployment (`annotations`), else the built-in default.
    pub fn rollout_timeout(annotations: Option<&BTreeMap<String, String>>) -> std::time::Duration {
        annotations
            .and_then(|a| a.get(SETTINGS))
            .and_then(|s| serde_json::from_str::<ProviderSide>(s).ok())
            .and_then(|p| crate::app::formats::parse_duration(&p.rollout_timeout))
            .or_else(|| crate::app::formats::parse_duration(super::spec::defaults::ROLLOUT_TIMEOUT))
            .unwrap_or(std::time::Duration::from_secs(300))
    }
    pub fn restore(&self, spec: &mut Spec) {
        spec.rollout.wait = self.rollout_wait;
        spec.rollout.timeout.clone_from(&self.rollout_timeout);
        spec.rollout.rollback_on_failure = self.rollback_on_failure;
        spec.secret_env_version = self.secret_env_version;
        spec.create_namespace = self.create_namespace;
    }
}

/// The kinds of object an app may have, in the order they are applied.
pub const KINDS: [Kind; 9] = [
    Kind::Namespace,
    Kind::ServiceAccount,
    Kind::Secret,
    Kind::Deployment,
    Kind::Service,
    Kind::HorizontalPodAutoscaler,
    Kind::PodDisruptionBudget,
    Kind::NetworkPolicy,
    Kind::Ingress,
];

/// The label every namespace carries with its own name (set by the API server).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Where the pods write when the root filesystem is read-only.
const TMP_VOLUME: &str = "tmp";

/// Labels on every object of the app (user labels first, so JKE's own always win).
pub fn labels(spec: &Spec) -> BTreeMap<String, String> {
    let mut l = spec.labels.clone().unwrap_or_default();
    l.extend(selector(spec));
    l.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
    l
}

/// The pod selector. Immutable on a Deployment, so it holds only the app's identity.
pub fn selector(spec: &Spec) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_string(), spec.name.clone()),
        (LABEL_INSTANCE.to_string(), spec.name.clone()),
    ])
}

/// Label selector that finds every object of the app (used for prune and delete).
pub fn app_label_selector(name: &str) -> String {
    format!("{LABEL_INSTANCE}={name},{LABEL_MANAGED_BY}={MANAGED_BY}")
}

pub fn secret_name(app: &str) -> String {
    format!("{app}-env")
}

pub fn tls_secret_name(app: &str) -> String {
    format!("{app}-tls")
}

fn meta(spec: &Spec, name: &str, annotations: Option<&StringMap>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(spec.namespace.clone()),
        labels: Some(labels(spec)),
        annotations: annotations.filter(|a| !a.is_empty()).cloned(),
        ..ObjectMeta::default()
    }
}

fn int_or_string(v: &str) -> IntOrString {
    v.parse::<i32>()
        .map(IntOrString::Int)
        .unwrap_or_else(|_| IntOrString::String(v.to_string()))
}

fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The app's objects, in apply order.
pub fn render(spec: &Spec) -> Vec<Manifest> {
    let ns = Some(spec.namespace.as_str());
    let mut out = Vec::new();
    if spec.create_namespace {
        let n = Namespace {
            metadata: ObjectMeta {
                name: Some(spec.namespace.clone()),
                labels: Some(BTreeMap::from([(
                    LABEL_MANAGED_BY.to_string(),
                    MANAGED_BY.to_string(),
                )])),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        out.push(Manifest::of(Kind::Namespace, &spec.namespace, None, &n));
    }
    if spec.service_account.create {
        let sa = ServiceAccount {
            metadata: meta(
                spec,
                &spec.service_account.name,
                spec.service_account.annotations.as_ref(),
            ),
            automount_service_account_token: Some(spec.service_account.automount_token),
            ..ServiceAccount::default()
        };
        out.push(Manifest::of(
            Kind::ServiceAccount,
            &spec.service_account.name,
            ns,
            &sa,
        ));
    }
    if spec.has_secret() {
        let s = Secret {
            metadata: meta(spec, &secret_name(&spec.name), None),
            type_: Some("Opaque".into()),
            data: Some(
                spec.secret_data()
                    .into_iter()
                    .map(|(k, v)| (k, ByteString(v.into_bytes())))
                    .collect(),
            ),
            ..Secret::default()
        };
        out.push(Manifest::of(Kind::Secret, &secret_name(&spec.name), ns, &s));
    }
    out.push(Manifest::of(
        Kind::Deployment,
        &spec.name,
        ns,
        &deployment(spec),
    ));
    if !spec.ports.is_empty() {
        out.push(Manifest::of(Kind::Service, &spec.name, ns, &service(spec)));
    }
    if spec.autoscale.enabled {
        out.push(Manifest::of(
            Kind::HorizontalPodAutoscaler,
            &spec.name,
            ns,
            &hpa(spec),
        ));
    }
    if spec.disruption_budget.enabled {
        out.push(Manifest::of(
            Kind::PodDisruptionBudget,
            &spec.name,
            ns,
            &pdb(spec),
        ));
    }
    if let Some(np) = network_policy(spec) {
        out.push(Manifest::of(Kind::NetworkPolicy, &spec.name, ns, &np));
    }
    if let Some(ing) = ingress(spec) {
        out.push(Manifest::of(Kind::Ingress, &spec.name, ns, &ing));
    }
    out
}

/// Checksum of the stored secret values and the write-only version: changing either rolls
/// the pods (write-only values are not in state, so their version stands in for them).
pub fn secret_checksum(spec: &Spec) -> String {
    let mut h = Sha256::new();
    for (k, v) in spec.secret_env.iter().flatten() {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    if let Some(v) = spec.secret_env_version {
        h.update(format!("wo-version={v}"));
    }
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn deployment(spec: &Spec) -> Deployment {
    let mut pod_annotations = spec.pod_annotations.clone().unwrap_or_default();
    if spec.has_secret() {
        pod_annotations.insert(SECRET_CHECKSUM.into(), secret_checksum(spec));
    }
    let resources = ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(spec.cpu.clone())),
            ("memory".to_string(), Quantity(spec.memory.clone())),
            (
                "ephemeral-storage".to_string(),
                Quantity(spec.ephemeral_storage.clone()),
            ),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(spec.cpu_limit.clone())),
            ("memory".to_string(), Quantity(spec.memory_limit.clone())),
            (
                "ephemeral-storage".to_string(),
                Quantity(spec.ephemeral_storage_limit.clone()),
            ),
        ])),
        ..ResourceRequirements::default()
    };
    let container = Container {
        name: spec.name.clone(),
        image: Some(spec.image.clone()),
        command: spec.command.clone(),
        args: spec.args.clone(),
        ports: (!spec.ports.is_empty()).then(|| {
            spec.ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.clone()),
                    container_port: to_i32(p.container_port),
                    protocol: Some(p.protocol.clone()),
                    ..ContainerPort::default()
                })
                .collect()
        }),
        env: spec.env.as_ref().filter(|e| !e.is_empty()).map(|e| {
            e.iter()
                .map(|(k, v)| EnvVar {
                    name: k.clone(),
                    value: Some(v.clone()),
                    ..EnvVar::default()
                })
                .collect()
        }),
        env_from: spec.has_secret().then(|| {
            vec![EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: secret_name(&spec.name),
                    optional: Some(false),
                }),
                ..EnvFromSource::default()
            }]
        }),
        resources: Some(resources),
        readiness_probe: probe(spec, &spec.readiness_probe),
        liveness_probe: spec.liveness_probe.as_ref().and_then(|p| probe(spec, p)),
        startup_probe: spec.startup_probe.as_ref().and_then(|p| probe(spec, p)),
        lifecycle: (spec.pre_stop_sleep > 0).then(|| Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: spec.pre_stop_sleep,
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        security_context: Some(container_security(spec)),
        volume_mounts: spec.security.read_only_root_filesystem.then(|| {
            vec![VolumeMount {
                name: TMP_VOLUME.into(),
                mount_path: "/tmp".into(),
                ..VolumeMount::default()
            }]
        }),
        ..Container::default()
    };
    let selector_labels = selector(spec);
    let pod = PodSpec {
        containers: vec![container],
        service_account_name: Some(spec.service_account.name.clone()),
        termination_grace_period_seconds: Some(spec.termination_grace_period),
        node_selector: spec.node_selector.clone().filter(|m| !m.is_empty()),
        automount_service_account_token: Some(spec.service_account.automount_token),
        // Written out (not left to the API's defaults) so that an edit turning them on is drift.
        host_network: Some(false),
        host_pid: Some(false),
        host_ipc: Some(false),
        security_context: Some(PodSecurityContext {
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..SeccompProfile::default()
            }),
            run_as_non_root: spec.security.restricted().then_some(true),
            fs_group: spec.security.fs_group,
            ..PodSecurityContext::default()
        }),
        volumes: spec.security.read_only_root_filesystem.then(|| {
            vec![Volume {
                name: TMP_VOLUME.into(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            }]
        }),
        topology_spread_constraints: spec
            .topology_spread
            .enabled
            .then(|| spread_constraints(spec, &selector_labels)),
        ..PodSpec::default()
    };
    let mut annotations = spec.annotations.clone().unwrap_or_default();
    annotations.insert(
        SETTINGS.into(),
        serde_json::to_string(&ProviderSide::of(spec)).unwrap_or_default(),
    );
    Deployment {
        metadata: meta(spec, &spec.name, Some(&annotations)),
        spec: Some(DeploymentSpec {
            // With autoscaling the HPA owns the replica count; setting it here would fight it.
            replicas: (!spec.autoscale.enabled).then(|| to_i32(spec.replicas)),
            selector: LabelSelector {
                match_labels: Some(selector_labels),
                ..LabelSelector::default()
            },
            progress_deadline_seconds: Some(to_i32(spec.rollout.progress_deadline_seconds)),
            revision_history_limit: Some(5),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(int_or_string(&spec.rollout.max_surge)),
                    max_unavailable: Some(int_or_string(&spec.rollout.max_unavailable)),
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(spec)),
                    annotations: Some(pod_annotations).filter(|a| !a.is_empty()),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// Zones first, then nodes. Soft: prefer spreading, but never leave a pod pending for it.
fn spread_constraints(spec: &Spec, selector: &StringMap) -> Vec<TopologySpreadConstraint> {
    let t = &spec.topology_spread;
    let mut keys = vec![t.topology_key.clone()];
    if t.spread_nodes && t.topology_key != super::spec::defaults::NODE_KEY {
        keys.push(super::spec::defaults::NODE_KEY.to_string());
    }
    keys.into_iter()
        .map(|key| TopologySpreadConstraint {
            max_skew: to_i32(t.max_skew),
            topology_key: key,
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector {
                match_labels: Some(selector.clone()),
                ..LabelSelector::default()
            }),
            ..TopologySpreadConstraint::default()
        })
        .collect()
}

/// The container's security settings for the app's profile (validation has refused any
/// override the profile does not allow).
fn container_security(spec: &Spec) -> SecurityContext {
    let s = &spec.security;
    let add = (!s.capabilities_add.is_empty()).then(|| s.capabilities_add.clone());
    let capabilities = if s.restricted() {
        Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add,
        })
    } else {
        add.map(|add| Capabilities {
            add: Some(add),
            drop: None,
        })
    };
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        run_as_non_root: s.restricted().then_some(true),
        run_as_user: s.run_as_user,
        run_as_group: s.run_as_group,
        read_only_root_filesystem: Some(s.read_only_root_filesystem),
        capabilities,
        ..SecurityContext::default()
    }
}

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
fn network_policy(spec: &Spec) -> Option<NetworkPolicy> {
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

fn probe(spec: &Spec, p: &Probe) -> Option<K8sProbe> {
    if !p.enabled {
        return None;
    }
    // Probe the port by name when it is one of the app's ports (robust to renumbering).
    let port = p.port.map(|n| {
        spec.ports
            .iter()
            .find(|x| x.container_port == n)
            .map(|x| IntOrString::String(x.name.clone()))
            .unwrap_or(IntOrString::Int(to_i32(n)))
    })?;
    let (http_get, tcp_socket) = match &p.http_path {
        Some(path) => (
            Some(HTTPGetAction {
                path: Some(path.clone()),
                port,
                scheme: Some("HTTP".into()),
                ..HTTPGetAction::default()
            }),
            None,
        ),
        None => (
            None,
            Some(TCPSocketAction {
                port,
                ..TCPSocketAction::default()
            }),
        ),
    };
    Some(K8sProbe {
        http_get,
        tcp_socket,
        initial_delay_seconds: Some(to_i32(p.initial_delay_seconds)),
        period_seconds: Some(to_i32(p.period_seconds)),
        timeout_seconds: Some(to_i32(p.timeout_seconds)),
        failure_threshold: Some(to_i32(p.failure_threshold)),
        success_threshold: Some(to_i32(p.success_threshold)),
        ..K8sProbe::default()
    })
}

fn service(spec: &Spec) -> Service {
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

fn hpa(spec: &Spec) -> HorizontalPodAutoscaler {
    let a = &spec.autoscale;
    let metric = |resource: &str, target: i64| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: resource.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(to_i32(target)),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    };
    let mut metrics = Vec::new();
    if let Some(t) = a.target_cpu_utilization {
        metrics.push(metric("cpu", t));
    }
    if let Some(t) = a.target_memory_utilization {
        metrics.push(metric("memory", t));
    }
    HorizontalPodAutoscaler {
        metadata: meta(spec, &spec.name, None),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: spec.name.clone(),
            },
            min_replicas: Some(to_i32(a.min_replicas)),
            max_replicas: to_i32(a.max_replicas),
            metrics: Some(metrics),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    }
}

fn pdb(spec: &Spec) -> PodDisruptionBudget {
    let b = &spec.disruption_budget;
    PodDisruptionBudget {
        metadata: meta(spec, &spec.name, None),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(LabelSelector {
                match_labels: Some(selector(spec)),
                ..LabelSelector::default()
            }),
            max_unavailable: b.max_unavailable.as_deref().map(int_or_string),
            min_available: b.min_available.as_deref().map(int_or_string),
            // Pods that are not ready protect nothing; let drains evict them.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
        }),
        ..PodDisruptionBudget::default()
    }
}

fn ingress(spec: &Spec) -> Option<Ingress> {
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

    #[test]
    fn restarts_wait_as_long_as_the_apps_rollout_timeout() {
        let a = BTreeMap::from([(
            SETTINGS.to_string(),
            r#"{"rollout_wait":true,"rollout_timeout":"90s","rollback_on_failure":true,"secret_env_version":null,"create_namespace":false}"#.to_string(),
        )]);
        let secs = |d: std::time::Duration| d.as_secs();
        assert_eq!(secs(ProviderSide::rollout_timeout(Some(&a))), 90);
        assert_eq!(secs(ProviderSide::rollout_timeout(None)), 300);
    }
    use crate::app::application::spec::{
        Input, NetworkPolicyInput, Peer, SecurityInput, ServiceInput,
    };
    use serde_json::json;

    fn render_of(f: impl FnOnce(&mut Input)) -> Vec<Manifest> {
        render(&crate::app::application::spec::test_spec(f))
    }

    fn object(ms: &[Manifest], kind: Kind) -> serde_json::Value {
        ms.iter()
            .find(|m| m.kind == kind)
            .map(|m| m.object.clone())
            .unwrap_or_default()
    }

    #[test]
    fn restricted_drops_every_capability_runs_as_non_root_and_keeps_tmp_writable() {
        let ms = render_of(|i| {
            i.security = Some(SecurityInput {
                profile: Some("restricted".into()),
                ..SecurityInput::default()
            })
        });
        let pod = &object(&ms, Kind::Deployment)["spec"]["template"]["spec"];
        let c = &pod["containers"][0];
        assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(c["securityContext"]["runAsNonRoot"], json!(true));
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], json!(true));
        assert_eq!(c["volumeMounts"][0]["mountPath"], json!("/tmp"));
        assert_eq!(pod["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(pod["automountServiceAccountToken"], json!(false));

        let ms = render_of(|_| {});
        let c = &object(&ms, Kind::Deployment)["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["securityContext"]["allowPrivilegeEscalation"],
            json!(false)
        );
        assert!(c["securityContext"].get("capabilities").is_none());
        assert!(c.get("volumeMounts").is_none());
    }

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

    #[test]
    fn pods_spread_over_zones_then_nodes() {
        let ms = render_of(|_| {});
        let t =
            &object(&ms, Kind::Deployment)["spec"]["template"]["spec"]["topologySpreadConstraints"];
        assert_eq!(t[0]["topologyKey"], json!("topology.kubernetes.io/zone"));
        assert_eq!(t[1]["topologyKey"], json!("kubernetes.io/hostname"));
        assert_eq!(t[1]["whenUnsatisfiable"], json!("ScheduleAnyway"));
    }
}
