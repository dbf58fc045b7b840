//! Spec -> the Kubernetes objects of one app. Pure and deterministic: the same spec always
//! renders the same objects (maps are ordered), so golden files and drift checks are stable.

use super::spec::{Probe, Spec, StringMap};
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
    Container, ContainerPort, EnvFromSource, EnvVar, HTTPGetAction, Lifecycle, LifecycleHandler,
    Namespace, PodSecurityContext, PodSpec, PodTemplateSpec, Probe as K8sProbe,
    ResourceRequirements, SeccompProfile, Secret, SecretEnvSource, SecurityContext, Service,
    ServiceAccount, ServicePort, ServiceSpec, SleepAction, TCPSocketAction,
    TopologySpreadConstraint,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
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
    pub fn restore(&self, spec: &mut Spec) {
        spec.rollout.wait = self.rollout_wait;
        spec.rollout.timeout.clone_from(&self.rollout_timeout);
        spec.rollout.rollback_on_failure = self.rollback_on_failure;
        spec.secret_env_version = self.secret_env_version;
        spec.create_namespace = self.create_namespace;
    }
}

/// The kinds of object an app may have, in the order they are applied.
pub const KINDS: [Kind; 8] = [
    Kind::Namespace,
    Kind::ServiceAccount,
    Kind::Secret,
    Kind::Deployment,
    Kind::Service,
    Kind::HorizontalPodAutoscaler,
    Kind::PodDisruptionBudget,
    Kind::Ingress,
];

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
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(spec.cpu_limit.clone())),
            ("memory".to_string(), Quantity(spec.memory_limit.clone())),
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
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            ..SecurityContext::default()
        }),
        ..Container::default()
    };
    let selector_labels = selector(spec);
    let pod = PodSpec {
        containers: vec![container],
        service_account_name: Some(spec.service_account.name.clone()),
        termination_grace_period_seconds: Some(spec.termination_grace_period),
        node_selector: spec.node_selector.clone().filter(|m| !m.is_empty()),
        security_context: Some(PodSecurityContext {
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..SeccompProfile::default()
            }),
            ..PodSecurityContext::default()
        }),
        topology_spread_constraints: spec.topology_spread.enabled.then(|| {
            vec![TopologySpreadConstraint {
                max_skew: to_i32(spec.topology_spread.max_skew),
                topology_key: spec.topology_spread.topology_key.clone(),
                // Soft: prefer spreading, but never leave a pod pending for it.
                when_unsatisfiable: "ScheduleAnyway".into(),
                label_selector: Some(LabelSelector {
                    match_labels: Some(selector_labels.clone()),
                    ..LabelSelector::default()
                }),
                ..TopologySpreadConstraint::default()
            }]
        }),
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
