//! Cluster errors as Terraform diagnostics: `kube` says what happened on the cluster; this
//! adds what to change in the configuration (provider block attributes, module inputs).

use crate::kube::KubeError;
use crate::plugin::Diagnostic;

/// What the person running Terraform can do about `e`, if anything beyond its message.
fn advice(e: &KubeError) -> Option<String> {
    match e {
        KubeError::NoConnection => Some(
            "set kubernetes = { host, cluster_ca_certificate, token } (or client_certificate and client_key, or config_path with config_context) or eks = { cluster_name, region } in the provider \"jke\" block".into(),
        ),
        KubeError::Settings(_) => Some("check the kubernetes or eks settings of the provider \"jke\" block".into()),
        KubeError::WrongEnvironment { unmarked: true, .. } => Some(
            "check the provider's connection settings, or mark the cluster with a jke_cluster resource for this environment".into(),
        ),
        KubeError::WrongEnvironment { .. } => Some("check the provider's connection settings and environment".into()),
        KubeError::Conflict { managers, .. } => Some(format!(
            "another field manager ({}) owns these fields; set field_manager = {{ force_conflicts = true }} in the provider block to take them over, or remove them from the other tool",
            if managers.is_empty() { "unnamed".to_string() } else { managers.join(", ") }
        )),
        KubeError::CrdNotServed { .. } => Some(
            "install it first (cert-manager: the cert_manager add-on of modules/eks-addons), or let this resource wait longer with crd_wait_timeout; with the add-on in the same configuration, add depends_on = [module.addons] so the wait starts when it is installed".into(),
        ),
        KubeError::Transient { .. } => Some("the API server may be restarting or unreachable from here; apply again when it answers".into()),
        KubeError::DeleteTimeout { .. } => Some(
            "an object being deleted stays until its finalizers are cleared, normally by the controller that added them: check that controller (or remove the finalizer with `kubectl patch`), then destroy again".into(),
        ),
        KubeError::Api { .. } | KubeError::Rollout { .. } | KubeError::Cancelled => None,
    }
}

/// The message of `e` with its advice, as one sentence-per-part detail.
pub fn detail(e: &KubeError) -> String {
    let msg = match e {
        KubeError::NoConnection => "no cluster connection configured".to_string(),
        KubeError::Cancelled => "cancelled: Terraform asked the provider to stop".to_string(),
        other => other.to_string(),
    };
    match advice(e) {
        Some(a) => format!("{msg}. To fix: {a}."),
        None => msg,
    }
}

/// `"{what} failed"` with the error and its advice.
pub fn diagnostic(e: &KubeError, what: &str) -> Diagnostic {
    Diagnostic::error(format!("{what} failed"), detail(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_says_what_to_change_in_terraform_terms() {
        let d = detail(&KubeError::NoConnection);
        assert!(
            d.contains("provider \"jke\" block") && d.contains("config_context"),
            "{d}"
        );
        let d = detail(&KubeError::Conflict {
            action: "apply Deployment/shop/web".into(),
            managers: vec!["helm".into()],
            fields: vec![".spec.replicas".into()],
            message: "Apply failed with 1 conflict: conflict with \"helm\"".into(),
        });
        assert!(
            d.contains("helm") && d.contains("force_conflicts = true"),
            "{d}"
        );
        let d = detail(&KubeError::unmarked(
            "configured for environment \"prod\" but the cluster at https://k does not say which environment it is".into(),
        ));
        assert!(d.contains("jke_cluster"), "{d}");
        let d = detail(&KubeError::Rollout {
            reason: "pods crash".into(),
        });
        assert_eq!(d, "pods crash");
        let d = detail(&KubeError::Cancelled);
        assert!(d.contains("Terraform asked"), "{d}");
    }
}
