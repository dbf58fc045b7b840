//! The Deployment: its container (resources, env, probes, lifecycle, security context) and
//! pod (security, volumes, spreading), the largest object an app renders.

use super::{
    ProviderSide, SECRET_CHECKSUM, SETTINGS, int_or_string, labels, meta, secret_checksum,
    secret_name, selector, to_i32,
};
use crate::app::application::spec::{Probe, Spec, StringMap, defaults};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource, EnvVar,
    HTTPGetAction, Lifecycle, LifecycleHandler, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe as K8sProbe, ResourceRequirements, SeccompProfile, SecretEnvSource, SecurityContext,
    SleepAction, TCPSocketAction, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Where the pods write when the root filesystem is read-only.
const TMP_VOLUME: &str = "tmp";

pub(super) fn deployment(spec: &Spec) -> Deployment {
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
    if t.spread_nodes && t.topology_key != defaults::NODE_KEY {
        keys.push(defaults::NODE_KEY.to_string());
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

#[cfg(test)]
mod tests {
    use crate::app::application::bundle::tests::{object, render_of};
    use crate::app::application::spec::SecurityInput;
    use crate::app::object::Kind;
    use serde_json::json;

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
    fn pods_spread_over_zones_then_nodes() {
        let ms = render_of(|_| {});
        let t =
            &object(&ms, Kind::Deployment)["spec"]["template"]["spec"]["topologySpreadConstraints"];
        assert_eq!(t[0]["topologyKey"], json!("topology.kubernetes.io/zone"));
        assert_eq!(t[1]["topologyKey"], json!("kubernetes.io/hostname"));
        assert_eq!(t[1]["whenUnsatisfiable"], json!("ScheduleAnyway"));
    }
}
