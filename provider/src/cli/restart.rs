//! `jke <env> restart <app>`: a rolling restart (new pods through a new ReplicaSet, under
//! the app's own rollout strategy), waited for like `terraform apply` waits for a rollout.
//! The restart annotation is not one of the app's settings, so the next plan shows no drift.

use super::{CliError, Target};
use crate::app::application::bundle::{ProviderSide, SETTINGS};
use crate::app::application::spec::defaults;
use crate::app::formats::parse_duration;
use clap::Args;
use std::time::Duration;
use tokio::sync::watch;

/// Field manager of the restart annotation (the provider's is `jke`).
pub const FIELD_MANAGER: &str = "jke-cli";

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The app's name.
    pub app: String,
}

/// How long to wait: the app's own rollout timeout (recorded on its Deployment by the
/// provider), else the provider's default.
pub fn rollout_timeout(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
) -> Duration {
    annotations
        .and_then(|a| a.get(SETTINGS))
        .and_then(|s| serde_json::from_str::<ProviderSide>(s).ok())
        .and_then(|p| parse_duration(&p.rollout_timeout))
        .or_else(|| parse_duration(defaults::ROLLOUT_TIMEOUT))
        .unwrap_or(Duration::from_secs(300))
}

pub async fn run(t: &Target, a: RestartArgs) -> Result<(), CliError> {
    let d = t.app(&a.app).await?;
    let timeout = rollout_timeout(d.metadata.annotations.as_ref());
    let at = k8s_openapi::jiff::Timestamp::now().to_string();
    t.cluster
        .restart_deployment(&t.namespace, &a.app, &at, FIELD_MANAGER)
        .await?;
    eprintln!(
        "jke: restarting {} in namespace {} (waiting up to {}s for the new pods)",
        a.app,
        t.namespace,
        timeout.as_secs()
    );
    let (stop_tx, mut stop) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
        }
    });
    t.cluster
        .wait_for_rollout(&t.namespace, &a.app, timeout, &mut stop)
        .await
        .map_err(|e| match e {
            crate::kube::KubeError::Cancelled => CliError::Failed(format!(
                "stopped waiting; the restart of {} goes on in the cluster (`jke {} status {}` shows it)",
                a.app, t.environment, a.app
            )),
            other => CliError::Failed(other.to_string()),
        })?;
    println!("restarted {}: every pod replaced", a.app);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn waits_as_long_as_the_apps_rollout_timeout() {
        let a = BTreeMap::from([(
            SETTINGS.to_string(),
            r#"{"rollout_wait":true,"rollout_timeout":"90s","rollback_on_failure":true,"secret_env_version":null,"create_namespace":false}"#.to_string(),
        )]);
        assert_eq!(rollout_timeout(Some(&a)), Duration::from_secs(90));
        assert_eq!(rollout_timeout(None), Duration::from_secs(300));
    }
}
