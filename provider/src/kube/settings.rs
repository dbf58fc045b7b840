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

/// Where a cluster says which environment it is: one key of one ConfigMap. The caller
/// names it (the platform's resource writes it), so this layer holds no product constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl std::fmt::Display for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Everything the cluster side needs to connect and guard.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSettings {
    pub connection: Connection,
    /// The environment the cluster's marker (or EKS tag) must name, if any.
    pub environment: Option<String>,
    pub marker: Marker,
    pub field_manager: FieldManager,
    /// At most this many requests to the API server at once, from every call this process
    /// makes (reads, writes, deletes and the start of watches fan out through one pool).
    pub max_requests: usize,
}

/// The request pool's size when the configuration names none: enough for Terraform's
/// parallelism of 10 and a destroy's concurrent deletes, far below what an API server's
/// default in-flight limits (400 reads, 200 writes) would start refusing.
pub const DEFAULT_MAX_REQUESTS: usize = 16;
