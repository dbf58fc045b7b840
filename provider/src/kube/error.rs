//! Cluster errors, worded for the person running Terraform.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum KubeError {
    /// The provider block does not say how to reach the cluster, or says it wrongly.
    #[error("{0}")]
    Settings(String),
    /// The environment guard refused the cluster.
    #[error("{0}")]
    WrongEnvironment(String),
    #[error("cannot reach the Kubernetes API at {host} ({action}): {source}")]
    Unreachable {
        host: String,
        action: String,
        source: kube::Error,
    },
    /// The API answered with an error status (forbidden, conflict, invalid, ...).
    #[error("{action}: {message}")]
    Api {
        action: String,
        code: u16,
        reason: String,
        message: String,
    },
    #[error("{0}")]
    Rollout(String),
    /// A custom resource type (CRD) is still not served after waiting for it.
    #[error("{0}")]
    NotServed(String),
    /// Deleting something would take other things with it (e.g. a namespace with apps).
    #[error("{0}")]
    Refused(String),
    #[error("cancelled: Terraform asked the provider to stop")]
    Cancelled,
}

impl KubeError {
    /// Wrap a kube error with what we were doing and where.
    pub fn from_kube(e: kube::Error, host: &str, action: &str) -> KubeError {
        match e {
            kube::Error::Api(s) => KubeError::Api {
                action: action.to_string(),
                code: s.code,
                reason: s.reason.clone(),
                message: explain(s.code, &s.message),
            },
            other => KubeError::Unreachable {
                host: host.to_string(),
                action: action.to_string(),
                source: other,
            },
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, KubeError::Api { code: 404, .. })
    }
}

/// The API server's message is precise; add what to do about the common cases.
fn explain(code: u16, message: &str) -> String {
    match code {
        403 => format!(
            "{message} (permission denied: grant this verb on this resource to the provider's identity; the README lists the minimal role)"
        ),
        409 if message.contains("conflict") => format!(
            "{message} (another field manager owns these fields; set field_manager = {{ force_conflicts = true }} in the provider block to take them over, or remove them from the other tool)"
        ),
        _ => message.to_string(),
    }
}
