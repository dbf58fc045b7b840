//! How to reach a cluster, as the provider block says it. No fallbacks: the provider never
//! uses whatever kubeconfig context happens to be current.

/// Explicit connection settings (`kubernetes = { ... }` in the provider block).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KubernetesSettings {
    pub host: Option<String>,
    pub cluster_ca_certificate: Option<String>,
    pub token: Option<String>,
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    pub config_path: Option<String>,
    pub config_context: Option<String>,
}

/// EKS settings (`eks = { ... }`): endpoint, CA and token come from AWS.
pub use super::eks::EksSettings;

#[derive(Clone, Debug, PartialEq)]
pub enum Connection {
    /// Nothing configured: every cluster call fails with a message saying what to set.
    None,
    Kubernetes(KubernetesSettings),
    Eks(EksSettings),
}

/// Field manager for server-side apply.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldManager {
    pub name: String,
    pub force_conflicts: bool,
}

impl Default for FieldManager {
    fn default() -> Self {
        FieldManager {
            name: "jke".into(),
            force_conflicts: true,
        }
    }
}

/// Everything the cluster side needs from the provider block.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSettings {
    pub connection: Connection,
    /// Expected value of ConfigMap kube-system/jke-environment (key `name`), if any.
    pub environment: Option<String>,
    pub field_manager: FieldManager,
}
