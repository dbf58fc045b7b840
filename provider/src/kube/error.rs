//! Typed cluster errors. Their messages say what happened on the cluster side; the callers
//! (the provider's resources, the `jke` command) add what their user should change.

use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum KubeError {
    /// No way to reach a cluster was configured at all.
    #[error("no cluster connection is configured")]
    NoConnection,
    /// The connection settings are present but wrong (unreadable kubeconfig, missing context).
    #[error("{0}")]
    Settings(String),
    /// The environment guard refused the cluster; nothing was read or written after the check.
    /// `unmarked`: the cluster says no environment at all (rather than another one).
    #[error("{message}")]
    WrongEnvironment { message: String, unmarked: bool },
    /// The API server could not be reached or the connection broke; worth retrying.
    #[error("cannot reach the Kubernetes API at {host} ({action}): {source}")]
    Transient {
        host: String,
        action: String,
        source: kube::Error,
    },
    /// Another field manager owns fields this apply sets (server-side apply, force off).
    #[error("{action}: {message}")]
    Conflict {
        action: String,
        /// The other managers, as the API server names them.
        managers: Vec<String>,
        /// The contested field paths.
        fields: Vec<String>,
        message: String,
    },
    /// The API answered with another error status (forbidden, invalid, ...).
    #[error("{action}: {message}")]
    Api {
        action: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// A Deployment did not roll out (deadline exceeded, pods not available in time).
    #[error("{reason}")]
    Rollout { reason: String },
    /// A custom resource type is still not served after waiting for its definition.
    #[error(
        "cannot apply {object}: the API at {host} does not serve it after waiting {}s for its CustomResourceDefinition {crd:?} ({message})",
        waited.as_secs()
    )]
    CrdNotServed {
        object: String,
        crd: String,
        host: String,
        waited: Duration,
        message: String,
    },
    /// Deleted objects were still there when the wait ended.
    #[error("objects still being deleted after {}s: {}", waited.as_secs(), left.join(", "))]
    DeleteTimeout { waited: Duration, left: Vec<String> },
    #[error("cancelled: asked to stop")]
    Cancelled,
}

impl KubeError {
    /// The guard found the cluster marked (or tagged) as another environment.
    pub fn wrong_environment(message: String) -> Self {
        KubeError::WrongEnvironment {
            message,
            unmarked: false,
        }
    }
    /// The guard found no environment marker on the cluster.
    pub fn unmarked(message: String) -> Self {
        KubeError::WrongEnvironment {
            message,
            unmarked: true,
        }
    }
}

impl KubeError {
    /// Wrap a kube error with what we were doing and where.
    pub fn from_kube(e: kube::Error, host: &str, action: &str) -> KubeError {
        match e {
            kube::Error::Api(s) if s.code == 409 && s.message.contains("conflict") => {
                let (managers, fields) = conflict_details(&s.message);
                KubeError::Conflict {
                    action: action.to_string(),
                    managers,
                    fields,
                    message: s.message.clone(),
                }
            }
            kube::Error::Api(s) => KubeError::Api {
                action: action.to_string(),
                code: s.code,
                reason: s.reason.clone(),
                message: explain(s.code, &s.message),
            },
            other => KubeError::Transient {
                host: host.to_string(),
                action: action.to_string(),
                source: other,
            },
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, KubeError::Api { code: 404, .. })
    }

    /// 409 to a write guarded by a resourceVersion: the object changed since it was read.
    pub fn is_outdated(&self) -> bool {
        matches!(self, KubeError::Api { code: 409, .. })
    }

    /// The identity in use may not do this (RBAC).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, KubeError::Api { code: 403, .. })
    }
}

/// The API server's message is precise; add what to do about a permission error.
fn explain(code: u16, message: &str) -> String {
    match code {
        403 => format!(
            "{message} (permission denied: grant this verb on this resource to the identity in use; docs/rbac lists the minimal roles)"
        ),
        _ => message.to_string(),
    }
}

/// Managers and fields from a server-side apply conflict message, e.g.
/// `Apply failed with 1 conflict: conflict with "helm" using apps/v1: .metadata.labels.x`.
fn conflict_details(message: &str) -> (Vec<String>, Vec<String>) {
    let mut managers = Vec::new();
    let mut fields = Vec::new();
    for part in message.split("conflict with \"").skip(1) {
        let Some((manager, rest)) = part.split_once('"') else {
            continue;
        };
        if !managers.iter().any(|m| m == manager) {
            managers.push(manager.to_string());
        }
        if let Some((_, field)) = rest.split_once(": ") {
            let field = field.split('\n').next().unwrap_or_default().trim();
            if !field.is_empty() {
                fields.push(field.to_string());
            }
        }
    }
    (managers, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_name_the_other_manager_and_the_fields() {
        let m = "Apply failed with 2 conflicts: conflict with \"helm\" using apps/v1: .metadata.labels.app.kubernetes.io/managed-by\nconflict with \"helm\" using apps/v1: .spec.replicas";
        let (managers, fields) = conflict_details(m);
        assert_eq!(managers, vec!["helm"]);
        assert_eq!(
            fields,
            vec![
                ".metadata.labels.app.kubernetes.io/managed-by",
                ".spec.replicas"
            ]
        );
    }
}
