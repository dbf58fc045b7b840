//! `jke_restart`: a rolling restart of one app, as `jke <env> restart` does it (a new
//! ReplicaSet under the app's own rollout strategy), waiting for the rollout like apply does
//! and reporting its progress. The restart annotation is not one of the app's settings, so
//! the next plan stays empty.

use super::super::action::{Action, Invocation};
use super::super::cluster_error::diagnostic as kube_diag;
use super::super::provider_config::ProviderConfig;
use crate::app::application::bundle::ProviderSide;
use crate::app::formats::is_dns_label;
use crate::app::object::{LABEL_MANAGED_BY, MANAGED_BY};
use crate::kube::KubeError;
use crate::plugin::{AttrPath, Attribute, Block, Diagnostic, Diagnostics, Schema, Type, Value};
use k8s_openapi::api::apps::v1::Deployment;

pub const TYPE_NAME: &str = "jke_restart";

/// Field manager of the restart annotation: not the provider's (`jke`), so an apply never
/// removes it, and not the CLI's, so each tool's last restart is told apart.
pub const FIELD_MANAGER: &str = "jke-restart";

pub struct Restart;

fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Rolling restart of one `jke_application`: every pod is replaced through a new ReplicaSet under the app's own rollout strategy (capacity never drops), and the action waits for the rollout as apply does (the app's `rollout.timeout`), reporting progress (\"1/2 pods updated\"). The next plan shows no changes. Respects the provider's environment guard.".into(),
            deprecated: false,
            attributes: vec![
                Attribute::typed(
                    "app",
                    Type::String,
                    "The app to restart, as `namespace/name`: usually `jke_application.web.id`.",
                )
                .required(),
            ],
        },
    }
}

/// `namespace/name`, or why not (attribute-named).
pub fn target(app: &str) -> Result<(String, String), Diagnostic> {
    let bad = |why: &str| {
        Diagnostic::error(
            "Invalid app",
            format!("app = {app:?}: {why}; write it as \"namespace/name\", e.g. jke_application.web.id or \"shop/web\""),
        )
        .at(AttrPath::attr("app"))
    };
    let Some((ns, name)) = app.split_once('/') else {
        return Err(bad("no namespace"));
    };
    if !is_dns_label(ns) {
        return Err(bad(&format!(
            "namespace {ns:?} is not a DNS label (lowercase letters, digits, '-')"
        )));
    }
    if !is_dns_label(name) {
        return Err(bad(&format!(
            "name {name:?} is not a DNS label (lowercase letters, digits, '-')"
        )));
    }
    Ok((ns.to_string(), name.to_string()))
}

#[tonic::async_trait]
impl Action for Restart {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, _provider: &ProviderConfig) -> Diagnostics {
        match config.get("app").and_then(Value::as_str) {
            Some(app) => target(app).err().map(Diagnostics::from).unwrap_or_default(),
            // Unknown until the app exists, or null (Terraform reports a missing required value).
            None => Diagnostics::new(),
        }
    }

    async fn invoke(&self, mut run: Invocation<'_>, config: &Value) -> Diagnostics {
        let app = config
            .get("app")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (namespace, name) = match target(app) {
            Ok(t) => t,
            Err(d) => return d.into(),
        };
        let Some(cx) = run.cluster.as_ref() else {
            return Diagnostic::error("Cannot use the cluster", "jke_restart was invoked without a cluster connection; this is a bug in the provider.").into();
        };
        let cluster = cx.cluster;
        let failed = |e: &KubeError| -> Diagnostics {
            kube_diag(e, &format!("Restarting {namespace}/{name}")).into()
        };
        let deployment = match cluster
            .get_namespaced::<Deployment>(&namespace, &name)
            .await
        {
            Ok(Some(d)) => d,
            Ok(None) => {
                let apps = cluster
                    .list_names::<Deployment>(
                        &namespace,
                        &format!("{LABEL_MANAGED_BY}={MANAGED_BY}"),
                    )
                    .await
                    .unwrap_or_default();
                let there = if apps.is_empty() {
                    "there are no apps there".to_string()
                } else {
                    format!("the apps there are {}", apps.join(", "))
                };
                return Diagnostic::error(
                    "No such app",
                    format!(
                        "app = {app:?}: no app {name:?} in namespace {namespace:?} at {} ({there})",
                        cluster.host
                    ),
                )
                .at(AttrPath::attr("app"))
                .into();
            }
            Err(e) => return failed(&e),
        };
        let timeout = ProviderSide::rollout_timeout(deployment.metadata.annotations.as_ref());
        let at = k8s_openapi::jiff::Timestamp::now().to_string();
        if let Err(e) = cluster
            .restart_deployment(&namespace, &name, &at, FIELD_MANAGER)
            .await
        {
            return failed(&e);
        }
        tracing::info!(app = %app, "restarting");
        run.progress.send(format!(
            "restarting {namespace}/{name}: waiting up to {}s for every pod to be replaced",
            timeout.as_secs()
        ));
        let progress = run.progress.clone();
        let report = move |m: &str| progress.send(m.to_string());
        match cluster
            .wait_for_rollout_reporting(&namespace, &name, timeout, &mut run.stop, &report)
            .await
        {
            Ok(_) => {
                run.progress
                    .send(format!("restarted {namespace}/{name}: every pod replaced"));
                Diagnostics::new()
            }
            Err(e) => failed(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_is_namespace_slash_name() {
        assert_eq!(target("shop/web"), Ok(("shop".into(), "web".into())));
        for bad in [
            "no-slash",
            "/web",
            "shop/",
            "Shop/web",
            "shop/web/x",
            "shop/web_1",
        ] {
            let d = target(bad).expect_err(bad);
            assert_eq!(d.path, Some(AttrPath::attr("app")), "{bad}");
            assert!(d.detail.starts_with("app = "), "{}", d.detail);
            assert!(d.detail.contains("namespace/name"), "{}", d.detail);
        }
    }

    #[test]
    fn unknown_app_waits_for_invoke() {
        let config = Value::Object([("app".to_string(), Value::Unknown)].into());
        assert!(
            Restart
                .validate(&config, &ProviderConfig::default())
                .is_empty()
        );
        let config = Value::Object([("app".to_string(), Value::string("web"))].into());
        assert!(
            Restart
                .validate(&config, &ProviderConfig::default())
                .has_errors()
        );
    }
}
