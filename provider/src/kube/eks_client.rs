//! EKS: endpoint, CA and a refreshed token from AWS (see `kube::eks`).

use super::error::KubeError;
use super::settings::EksSettings;
use kube::Config;

/// kube Config for an EKS cluster plus the cluster's `jke/environment` tag.
pub async fn config(e: &EksSettings) -> Result<(Config, Option<String>), KubeError> {
    Err(KubeError::Settings(format!(
        "EKS connection for cluster {:?}: not built into this provider yet",
        e.cluster_name
    )))
}
