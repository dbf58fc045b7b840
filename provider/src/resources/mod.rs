//! Terraform calls mapped to domain calls: one [`Resource`] per resource type, found by
//! type name in [`RESOURCES`]; the provider itself only connects and dispatches.

pub mod action;
pub mod actions;
pub mod application;
pub mod cluster;
pub mod cluster_error;
pub mod convert;
pub mod docs;
pub mod list_resource;
pub mod notifications;
pub mod objects;
pub mod provider_config;
pub mod render;
pub mod resource;

use crate::kube::Cluster;
use crate::plugin::{
    ActionProgress, ApplyRequest, ApplyResponse, ConfigureRequest, Diagnostic, Diagnostics,
    GenerateConfigResponse, ImportRequest, ImportResponse, InvokeActionRequest, ListRequest,
    ListResult, ListSink, PlanActionRequest, PlanRequest, PlanResponse, Provider, ProviderSchemas,
    ReadRequest, ReadResponse, ValidateListRequest, Value,
};
pub use action::{Action, Invocation};
pub use actions::ACTIONS;
pub use list_resource::ListResource;
use provider_config::ProviderConfig;
pub use resource::{Connected, Guard, Resource};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{OnceCell, watch};

/// Every resource type this provider serves.
pub static RESOURCES: [&dyn Resource; 2] = [&application::Application, &cluster::PlatformCluster];

fn find(type_name: &str) -> Option<&'static dyn Resource> {
    RESOURCES
        .iter()
        .copied()
        .find(|r| r.type_name() == type_name)
}

/// Every list resource this provider serves (`list` blocks of `terraform query`).
pub static LIST_RESOURCES: [&dyn ListResource; 1] = [&application::list::ApplicationList];

fn find_list(type_name: &str) -> Option<&'static dyn ListResource> {
    LIST_RESOURCES
        .iter()
        .copied()
        .find(|r| r.type_name() == type_name)
}

/// The JKE provider: configuration from the provider block, and one lazily connected
/// cluster client shared by every call in this process.
pub struct JkeProvider {
    schemas: ProviderSchemas,
    config: RwLock<Arc<ProviderConfig>>,
    cluster: OnceCell<Result<Cluster, String>>,
    /// The same cluster without the environment guard, with the EKS `jke/environment` tag,
    /// for [`Guard::OwnMarker`] resources.
    unguarded: OnceCell<(Cluster, Option<String>)>,
    stop_tx: watch::Sender<bool>,
    /// The warning about a provider block without `environment` was given in this run.
    environment_warned: AtomicBool,
}

impl Default for JkeProvider {
    fn default() -> Self {
        Self::new()
    }
}

pub fn schemas() -> ProviderSchemas {
    ProviderSchemas {
        provider: provider_config::schema(),
        resources: RESOURCES
            .iter()
            .map(|r| (r.type_name().to_string(), r.schema()))
            .collect(),
        identities: RESOURCES
            .iter()
            .filter_map(|r| Some((r.type_name().to_string(), r.identity_schema()?)))
            .collect(),
        list_resources: LIST_RESOURCES
            .iter()
            .map(|r| (r.type_name().to_string(), r.schema()))
            .collect(),
        actions: ACTIONS
            .iter()
            .map(|a| (a.type_name().to_string(), a.schema()))
            .collect(),
    }
}

impl JkeProvider {
    pub fn new() -> Self {
        JkeProvider {
            schemas: schemas(),
            config: RwLock::new(Arc::new(ProviderConfig::default())),
            cluster: OnceCell::new(),
            unguarded: OnceCell::new(),
            stop_tx: watch::channel(false).0,
            environment_warned: AtomicBool::new(false),
        }
    }

    /// Once per run (Terraform starts the provider for each command), when the provider
    /// block sets no `environment` and a call reaches the cluster: a warning naming the
    /// cluster and what its marker says, since nothing checked it is the intended one.
    async fn environment_notice(&self, cluster: &Cluster) -> Diagnostics {
        let cfg = self.config();
        if cfg.cluster.environment.is_some() || self.environment_warned.swap(true, Ordering::SeqCst)
        {
            return Diagnostics::new();
        }
        // Best effort: an identity that may not read the marker (or a cluster that does not
        // answer) still gets the warning, saying the marker is unknown rather than absent.
        let marker = match cluster.environment_marker().await {
            Ok(m) => Marker::Read(m),
            Err(_) => Marker::Unread,
        };
        no_environment_warning(&cluster.host, &marker).into()
    }

    fn config(&self) -> Arc<ProviderConfig> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The cluster as `guard` asks, with the provider's settings, for one call.
    async fn connected(&self, guard: Guard) -> Result<Connected<'_>, Diagnostic> {
        let (cluster, eks_tag) = self.connect(guard).await?;
        Ok(Connected {
            cluster,
            eks_tag,
            config: self.config(),
        })
    }

    /// The cluster as `guard` asks, connected on first use; only Read, Apply and Import get
    /// here, so plans never need a reachable cluster. A guarded connection's failure is kept
    /// (the guard's answer does not change within a run); an unguarded one is retried.
    async fn connect(&self, guard: Guard) -> Result<(&Cluster, Option<&str>), Diagnostic> {
        let cfg = self.config();
        let failed = |detail: String| Diagnostic::error("Cannot use the cluster", detail);
        match guard {
            Guard::Environment => self
                .cluster
                .get_or_init(|| async move {
                    Cluster::connect(&cfg.cluster)
                        .await
                        .map_err(|e| cluster_error::detail(&e))
                })
                .await
                .as_ref()
                .map(|c| (c, None))
                .map_err(|e| failed(e.clone())),
            Guard::OwnMarker => self
                .unguarded
                .get_or_try_init(|| async move { Cluster::connect_unguarded(&cfg.cluster).await })
                .await
                .map(|(c, tag)| (c, tag.as_deref()))
                .map_err(|e| failed(cluster_error::detail(&e))),
        }
    }
}

/// What the cluster's environment marker was found to be, for the warning.
pub enum Marker {
    /// Read: the marker's environment, or `None` when the cluster has none.
    Read(Option<String>),
    /// Not read (no permission, or the cluster did not answer).
    Unread,
}

/// The warning for a provider block without `environment` that reached `host`.
pub fn no_environment_warning(host: &str, marker: &Marker) -> Diagnostic {
    let (says, set) = match marker {
        Marker::Read(Some(m)) => (
            format!("the cluster's marker says {m:?}"),
            format!("environment = {m:?}"),
        ),
        Marker::Unread => (
            "its environment marker could not be read".to_string(),
            "environment = \"<name>\"".to_string(),
        ),
        Marker::Read(None) => (
            "the cluster has no environment marker".to_string(),
            "environment = \"<name>\" (and mark the cluster with a jke_cluster resource)"
                .to_string(),
        ),
    };
    Diagnostic::warning(
        "No environment set",
        format!(
            "the provider block sets no `environment`, so nothing checked that the cluster at {host} is the one this configuration is for ({says}). Set {set} in the provider \"jke\" block; require_environment = true makes this an error."
        ),
    )
}

fn unknown_type(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Unknown resource type",
        format!(
            "this provider has no resource {type_name:?}; it has {}",
            RESOURCES
                .iter()
                .map(|r| r.type_name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .into()
}

fn unknown_action(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Unknown action type",
        format!(
            "this provider has no action {type_name:?}; it has {}",
            ACTIONS
                .iter()
                .map(|a| a.type_name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .into()
}

#[tonic::async_trait]
impl Provider for JkeProvider {
    fn schemas(&self) -> &ProviderSchemas {
        &self.schemas
    }

    async fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let (cfg, mut diags) = provider_config::decode(config);
        diags.extend(application::validate_defaults(&cfg.defaults));
        diags
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        let (cfg, diags) = provider_config::decode(&req.config);
        if !diags.has_errors() {
            match self.config.write() {
                Ok(mut c) => *c = Arc::new(cfg),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(cfg),
            }
        }
        diags
    }

    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match find(type_name) {
            Some(r) => r.validate(config, &self.config()),
            None => unknown_type(type_name),
        }
    }

    // UpgradeResourceState: the trait's default reads stored state with the current schema
    // (schema version 0 is the only one so far).

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        let Some(r) = find(&req.type_name) else {
            return ReadResponse {
                diagnostics: unknown_type(&req.type_name),
                ..ReadResponse::default()
            };
        };
        if self.config().connection_unknown {
            // The cluster is being created in this run: keep what we know.
            return ReadResponse {
                new_state: req.current_state,
                private: req.private,
                new_identity: req.current_identity,
                ..ReadResponse::default()
            };
        }
        match self.connected(r.guard()).await {
            Ok(cx) => {
                let notice = self.environment_notice(cx.cluster).await;
                let mut resp = r.read(&cx, &req).await;
                resp.diagnostics.extend(notice);
                resp
            }
            Err(d) => ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: d.into(),
                ..ReadResponse::default()
            },
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        match find(&req.type_name) {
            Some(r) => r.plan(&req, &self.config()),
            None => PlanResponse {
                diagnostics: unknown_type(&req.type_name),
                ..PlanResponse::default()
            },
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        let Some(r) = find(&req.type_name) else {
            return ApplyResponse {
                diagnostics: unknown_type(&req.type_name),
                ..ApplyResponse::default()
            };
        };
        match self.connected(r.guard()).await {
            Ok(cx) => {
                let notice = self.environment_notice(cx.cluster).await;
                let mut resp = r.apply(&cx, &req, self.stop_tx.subscribe()).await;
                resp.diagnostics.extend(notice);
                resp
            }
            Err(d) => ApplyResponse {
                new_state: req.prior_state,
                private: req.planned_private,
                diagnostics: d.into(),
                ..ApplyResponse::default()
            },
        }
    }

    async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse {
        let fail = |diagnostics: Diagnostics| ImportResponse {
            diagnostics,
            ..ImportResponse::default()
        };
        let Some(r) = find(&req.type_name) else {
            return fail(unknown_type(&req.type_name));
        };
        if let Err(d) = r.import_target(&req) {
            return fail(d.into());
        }
        match self.connected(r.guard()).await {
            Ok(cx) => {
                let notice = self.environment_notice(cx.cluster).await;
                let mut resp = r.import(&cx, &req).await;
                resp.diagnostics.extend(notice);
                resp
            }
            Err(d) => fail(d.into()),
        }
    }

    async fn stop(&self) {
        let _ = self.stop_tx.send(true);
    }

    // List resources.

    async fn validate_list_resource_config(&self, req: ValidateListRequest) -> Diagnostics {
        match find_list(&req.type_name) {
            Some(l) => l.validate(&req),
            None => unknown_type(&req.type_name),
        }
    }

    async fn list_resource(&self, req: ListRequest, sink: ListSink) {
        let Some(l) = find_list(&req.type_name) else {
            let _ = sink
                .send(ListResult::failed(unknown_type(&req.type_name)))
                .await;
            return;
        };
        // The guard applies as for every read: a cluster of another environment is refused.
        match self.connected(l.guard()).await {
            Ok(cx) => l.list(&cx, &req, &sink).await,
            Err(d) => {
                let _ = sink.send(ListResult::failed(d.into())).await;
            }
        }
    }

    async fn generate_resource_config(
        &self,
        type_name: &str,
        state: Value,
    ) -> GenerateConfigResponse {
        let generated = match find(type_name) {
            Some(r) => r.generate_config(&state, &self.config()),
            None => Err(unknown_type(type_name)),
        };
        match generated {
            Ok(config) => GenerateConfigResponse {
                config,
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => GenerateConfigResponse {
                config: Value::Null,
                diagnostics,
            },
        }
    }

    // Actions: checked at validate and plan without a cluster; invoke connects as the
    // action asks (jke_restart behind the environment guard, jke_notify not at all).

    async fn validate_action_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match actions::find(type_name) {
            Some(a) => a.validate(config, &self.config()),
            None => unknown_action(type_name),
        }
    }

    async fn plan_action(&self, req: PlanActionRequest) -> Diagnostics {
        match actions::find(&req.type_name) {
            Some(a) => a.plan(&req.config, &self.config()),
            None => unknown_action(&req.type_name),
        }
    }

    async fn invoke_action(
        &self,
        req: InvokeActionRequest,
        progress: ActionProgress,
    ) -> Diagnostics {
        let Some(a) = actions::find(&req.type_name) else {
            return unknown_action(&req.type_name);
        };
        let provider = self.config();
        let cluster = match a.guard() {
            Some(guard) => match self.connected(guard).await {
                Ok(cx) => Some(cx),
                Err(d) => return d.into(),
            },
            None => None,
        };
        let run = Invocation {
            cluster,
            provider: &provider,
            progress,
            stop: self.stop_tx.subscribe(),
        };
        a.invoke(run, &req.config).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_is_served_once_with_its_schema() {
        let names: Vec<&str> = RESOURCES.iter().map(|r| r.type_name()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let s = schemas();
        assert_eq!(s.resources.len(), RESOURCES.len());
        assert!(find("jke_application").is_some() && find("jke_cluster").is_some());
        assert!(find("jke_nothing").is_none());
        // A list resource lists instances of the managed resource of the same name.
        for l in LIST_RESOURCES {
            let r = find(l.type_name()).map(|r| r.identity_schema().is_some());
            assert_eq!(r, Some(true), "{}", l.type_name());
        }
        assert_eq!(s.list_resources.len(), LIST_RESOURCES.len());
        // Only jke_cluster writes the marker, so only it may connect without the guard.
        for r in RESOURCES {
            let own = r.guard() == Guard::OwnMarker;
            assert_eq!(own, r.type_name() == "jke_cluster", "{}", r.type_name());
        }
    }

    #[test]
    fn the_no_environment_warning_tells_an_absent_marker_from_an_unread_one() {
        let detail = |m: Marker| no_environment_warning("https://k", &m).detail;
        assert!(
            detail(Marker::Read(Some("prod".into()))).contains(r#"Set environment = "prod" in"#)
        );
        assert!(detail(Marker::Read(None)).contains("the cluster has no environment marker"));
        let unread = detail(Marker::Unread);
        assert!(unread.contains("could not be read"), "{unread}");
        assert!(!unread.contains("has no environment marker"), "{unread}");
    }

    #[test]
    fn every_action_is_served_once_and_only_jke_notify_skips_the_cluster() {
        let names: Vec<&str> = ACTIONS.iter().map(|a| a.type_name()).collect();
        assert_eq!(names, ["jke_restart", "jke_notify"]);
        assert_eq!(schemas().actions.len(), ACTIONS.len());
        for a in ACTIONS {
            let guard = a.guard();
            if a.type_name() == "jke_notify" {
                assert_eq!(guard, None);
            } else {
                assert_eq!(guard, Some(Guard::Environment), "{}", a.type_name());
            }
        }
    }
}
