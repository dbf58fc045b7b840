//! Import's take-back of the Deployment's pod template (command, probes, lifecycle, rollout,
//! labels, security, scheduling): only a full import reads these, Read leaves them to drift.

use super::bundle::{self, SECRET_CHECKSUM};
use super::take_back::{foreign, int_or_string};
use crate::app::application::spec::{Port, Probe, Spec, StringMap, defaults};
use crate::app::application::validate::RESERVED_LABELS;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Probe as K8sProbe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

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

pub(super) fn take_back_pod(spec: &mut Spec, d: &Deployment, c: &Container) {
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
        let node_key = defaults::NODE_KEY;
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
