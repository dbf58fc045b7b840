//! Spec -> the Kubernetes objects of one app. Pure and deterministic: the same spec always
//! renders the same objects (maps are ordered), so golden files and drift checks are stable.
//!
//! This file holds the entry point [`render`], the names and labels every object shares and
//! the provider-side settings; the objects themselves are built in `deployment.rs` (the
//! Deployment with its container and pod), `network.rs` (Service, Ingress, NetworkPolicy) and
//! `scaling.rs` (HorizontalPodAutoscaler, PodDisruptionBudget).

mod deployment;
mod network;
mod scaling;

pub use network::peer;

use super::spec::{Spec, StringMap};
use crate::app::object::{Kind, LABEL_MANAGED_BY, MANAGED_BY, Manifest};
use deployment::deployment;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use network::{ingress, network_policy, service};
use scaling::{hpa, pdb};
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
    use crate::app::application::spec::Input;

    pub(super) fn render_of(f: impl FnOnce(&mut Input)) -> Vec<Manifest> {
        render(&crate::app::application::spec::test_spec(f))
    }

    pub(super) fn object(ms: &[Manifest], kind: Kind) -> serde_json::Value {
        ms.iter()
            .find(|m| m.kind == kind)
            .map(|m| m.object.clone())
            .unwrap_or_default()
    }
}
