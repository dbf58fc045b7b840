//! `jke <env> restart <app>`: a rolling restart (new pods through a new ReplicaSet, under
//! the app's own rollout strategy), waited for like `terraform apply` waits for a rollout.
//! The restart annotation is not one of the app's settings, so the next plan shows no drift.

use super::{CliError, Target};
use crate::app::application::bundle::ProviderSide;
use clap::Args;
use tokio::sync::watch;

/// Field manager of the restart annotation (the provider's is `jke`).
pub const FIELD_MANAGER: &str = "jke-cli";

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The app's name.
    pub app: String,
}

pub async fn run(t: &Target, a: RestartArgs) -> Result<(), CliError> {
    let d = t.app(&a.app).await?;
    let timeout = ProviderSide::rollout_timeout(d.metadata.annotations.as_ref());
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
