//! The application model: what one `jke_application` asks for, with every default resolved.
//!
//! [`Input`] is what the user wrote (every field optional); the provider's `defaults` are an
//! `Input` too. [`Spec::resolve`] layers resource input over provider defaults over the
//! built-in defaults below, so "where do defaults come from?" has one answer: this module.
//! Field names match the Terraform attribute names (the resource layer maps them 1:1).
//!
//! This file holds the built-in defaults and the resolved [`Spec`]; the `Input` structs are in
//! `input.rs` and the resolution in `resolve.rs`.

mod input;
mod resolve;

pub use input::{
    AutoscaleInput, DisruptionBudgetInput, IngressInput, Input, NetworkPolicyInput, Peer,
    PortInput, ProbeInput, RolloutInput, SecurityInput, ServiceAccountInput, ServiceInput,
    TopologySpreadInput,
};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type StringMap = BTreeMap<String, String>;

/// Built-in defaults: the JKE platform's answer for a production app.
pub mod defaults {
    pub const NAMESPACE: &str = "default";
    pub const CPU: &str = "1";
    pub const MEMORY: &str = "2Gi";
    pub const REPLICAS: i64 = 2;
    pub const MIN_REPLICAS: i64 = 2;
    pub const MAX_REPLICAS: i64 = 10;
    pub const TARGET_CPU: i64 = 70;
    pub const PDB_MAX_UNAVAILABLE: &str = "1";
    pub const SERVICE_TYPE: &str = "ClusterIP";
    pub const INGRESS_PATH: &str = "/";
    pub const INGRESS_ISSUER: &str = "letsencrypt";
    pub const TERMINATION_GRACE_PERIOD: i64 = 30;
    /// Long enough for load balancers and kube-proxy to stop sending new connections.
    pub const PRE_STOP_SLEEP: i64 = 5;
    pub const ZONE_KEY: &str = "topology.kubernetes.io/zone";
    pub const ROLLOUT_TIMEOUT: &str = "5m";
    pub const PROGRESS_DEADLINE: i64 = 120;
    pub const MAX_SURGE: &str = "25%";
    /// Zero: a rollout never takes serving capacity away.
    pub const MAX_UNAVAILABLE: &str = "0";
    pub const PROBE_PERIOD: i64 = 10;
    pub const PROBE_TIMEOUT: i64 = 1;
    pub const PROBE_FAILURE_THRESHOLD: i64 = 3;
    pub const PROBE_SUCCESS_THRESHOLD: i64 = 1;
    /// Scratch disk per pod: enough for logs and temp files, small enough that one pod
    /// cannot fill a node's disk.
    pub const EPHEMERAL_STORAGE: &str = "1Gi";
    pub const NODE_KEY: &str = "kubernetes.io/hostname";
    pub const SECURITY_PROFILE: &str = "baseline";
    /// Where ingress traffic comes from: the controller the platform's Ingresses use.
    pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-nginx";
}

/// Pod Security profiles an app can run under (the Kubernetes Pod Security Standards).
pub const PROFILES: [&str; 2] = ["baseline", "restricted"];
/// The ServiceAccount annotation of IAM roles for service accounts (IRSA).
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

// ---------------------------------------------------------------------------------------------
// Spec: every setting decided.

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Spec {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub port: Option<i64>,
    pub ports: Vec<Port>,
    pub env: Option<StringMap>,
    pub secret_env: Option<StringMap>,
    /// Write-only values: known during apply only, never stored.
    #[serde(skip)]
    pub secret_env_wo: Option<StringMap>,
    pub secret_env_version: Option<i64>,
    pub cpu: String,
    pub memory: String,
    pub cpu_limit: String,
    pub memory_limit: String,
    pub ephemeral_storage: String,
    pub ephemeral_storage_limit: String,
    pub replicas: i64,
    pub autoscale: Autoscale,
    pub disruption_budget: DisruptionBudget,
    pub service: Service,
    pub ingress: Option<Ingress>,
    pub readiness_probe: Probe,
    pub liveness_probe: Option<Probe>,
    pub startup_probe: Option<Probe>,
    pub termination_grace_period: i64,
    pub pre_stop_sleep: i64,
    pub topology_spread: TopologySpread,
    pub service_account: ServiceAccount,
    pub labels: Option<StringMap>,
    pub annotations: Option<StringMap>,
    pub pod_annotations: Option<StringMap>,
    pub node_selector: Option<StringMap>,
    pub create_namespace: bool,
    pub rollout: Rollout,
    pub security: Security,
    pub network_policy: NetworkPolicy,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Port {
    pub name: String,
    pub container_port: i64,
    pub service_port: i64,
    pub protocol: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Autoscale {
    pub enabled: bool,
    pub min_replicas: i64,
    pub max_replicas: i64,
    pub target_cpu_utilization: Option<i64>,
    pub target_memory_utilization: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct DisruptionBudget {
    pub enabled: bool,
    pub max_unavailable: Option<String>,
    pub min_available: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Service {
    #[serde(rename = "type")]
    pub type_: String,
    pub external_traffic_policy: Option<String>,
    pub annotations: Option<StringMap>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Ingress {
    pub hosts: Vec<String>,
    pub path: String,
    pub class_name: Option<String>,
    pub tls: bool,
    pub issuer: Option<String>,
    pub annotations: Option<StringMap>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Probe {
    pub enabled: bool,
    pub http_path: Option<String>,
    pub tcp: bool,
    pub port: Option<i64>,
    pub initial_delay_seconds: i64,
    pub period_seconds: i64,
    pub timeout_seconds: i64,
    pub failure_threshold: i64,
    pub success_threshold: i64,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct TopologySpread {
    pub enabled: bool,
    pub max_skew: i64,
    pub topology_key: String,
    pub spread_nodes: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ServiceAccount {
    pub create: bool,
    pub name: String,
    pub annotations: Option<StringMap>,
    pub pod_identity: bool,
    pub automount_token: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Security {
    pub profile: String,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub fs_group: Option<i64>,
    pub read_only_root_filesystem: bool,
    pub capabilities_add: Vec<String>,
}

impl Security {
    pub fn restricted(&self) -> bool {
        self.profile == "restricted"
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct NetworkPolicy {
    pub enabled: bool,
    pub allow_from: Vec<Peer>,
    /// Empty: no ingress controller is allowed in.
    pub ingress_controller_namespace: String,
    /// `None`: egress is open (no Egress rules).
    pub egress: Option<Vec<Peer>>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Rollout {
    pub wait: bool,
    pub timeout: String,
    pub progress_deadline_seconds: i64,
    pub rollback_on_failure: bool,
    pub max_surge: String,
    pub max_unavailable: String,
}

/// The app most unit tests start from: `web`, `nginx:1.27` on port 8080, changed by `f`,
/// resolved over no provider defaults.
#[cfg(test)]
pub(crate) fn test_spec(f: impl FnOnce(&mut Input)) -> Spec {
    let mut i = Input {
        name: Some("web".into()),
        image: Some("nginx:1.27".into()),
        port: Some(8080),
        ..Input::default()
    };
    f(&mut i);
    Spec::resolve(&i, &Input::default())
}
