//! What the user wrote: [`Input`] and its nested `*Input` blocks, every field optional (the
//! provider's `defaults` are an `Input` too), deserialized 1:1 from the Terraform attributes.

use super::StringMap;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Input: what the user (or the provider's defaults) wrote.

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Input {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub image: Option<String>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub port: Option<i64>,
    pub ports: Option<Vec<PortInput>>,
    pub env: Option<StringMap>,
    pub secret_env: Option<StringMap>,
    pub secret_env_wo: Option<StringMap>,
    pub secret_env_version: Option<i64>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub cpu_limit: Option<String>,
    pub memory_limit: Option<String>,
    pub ephemeral_storage: Option<String>,
    pub ephemeral_storage_limit: Option<String>,
    pub replicas: Option<i64>,
    pub autoscale: Option<AutoscaleInput>,
    pub disruption_budget: Option<DisruptionBudgetInput>,
    pub service: Option<ServiceInput>,
    pub ingress: Option<IngressInput>,
    pub readiness_probe: Option<ProbeInput>,
    pub liveness_probe: Option<ProbeInput>,
    pub startup_probe: Option<ProbeInput>,
    pub termination_grace_period: Option<i64>,
    pub pre_stop_sleep: Option<i64>,
    pub topology_spread: Option<TopologySpreadInput>,
    pub service_account: Option<ServiceAccountInput>,
    pub labels: Option<StringMap>,
    pub annotations: Option<StringMap>,
    pub pod_annotations: Option<StringMap>,
    pub node_selector: Option<StringMap>,
    pub create_namespace: Option<bool>,
    pub rollout: Option<RolloutInput>,
    pub security: Option<SecurityInput>,
    pub network_policy: Option<NetworkPolicyInput>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PortInput {
    pub name: Option<String>,
    pub container_port: Option<i64>,
    pub service_port: Option<i64>,
    pub protocol: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AutoscaleInput {
    pub enabled: Option<bool>,
    pub min_replicas: Option<i64>,
    pub max_replicas: Option<i64>,
    pub target_cpu_utilization: Option<i64>,
    pub target_memory_utilization: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DisruptionBudgetInput {
    pub enabled: Option<bool>,
    pub max_unavailable: Option<String>,
    pub min_available: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceInput {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub external_traffic_policy: Option<String>,
    pub annotations: Option<StringMap>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IngressInput {
    pub hosts: Option<Vec<String>>,
    pub path: Option<String>,
    pub class_name: Option<String>,
    pub tls: Option<bool>,
    pub issuer: Option<String>,
    pub annotations: Option<StringMap>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeInput {
    pub enabled: Option<bool>,
    pub http_path: Option<String>,
    pub tcp: Option<bool>,
    pub port: Option<i64>,
    pub initial_delay_seconds: Option<i64>,
    pub period_seconds: Option<i64>,
    pub timeout_seconds: Option<i64>,
    pub failure_threshold: Option<i64>,
    pub success_threshold: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TopologySpreadInput {
    pub enabled: Option<bool>,
    pub max_skew: Option<i64>,
    pub topology_key: Option<String>,
    pub spread_nodes: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceAccountInput {
    pub create: Option<bool>,
    pub name: Option<String>,
    pub annotations: Option<StringMap>,
    pub pod_identity: Option<bool>,
    pub automount_token: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityInput {
    pub profile: Option<String>,
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub fs_group: Option<i64>,
    pub read_only_root_filesystem: Option<bool>,
    pub capabilities_add: Option<Vec<String>>,
}

/// Where traffic may come from (ingress) or go to (egress): pods selected by namespace
/// and/or labels, or an address range.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Peer {
    pub namespace: Option<String>,
    pub pod_labels: Option<StringMap>,
    pub cidr: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkPolicyInput {
    pub enabled: Option<bool>,
    pub allow_from: Option<Vec<Peer>>,
    pub ingress_controller_namespace: Option<String>,
    pub egress: Option<Vec<Peer>>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RolloutInput {
    pub wait: Option<bool>,
    pub timeout: Option<String>,
    pub progress_deadline_seconds: Option<i64>,
    pub rollback_on_failure: Option<bool>,
    pub max_surge: Option<String>,
    pub max_unavailable: Option<String>,
}
