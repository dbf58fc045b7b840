//! Terraform calls mapped to domain calls, one module per resource.

pub mod application;
pub mod cluster;
pub mod convert;
pub mod docs;
pub mod provider_config;
pub mod render;

use crate::app::spec::{Input, Spec};
use crate::app::validate;
use crate::kube::Cluster;
use crate::plugin::{
    ApplyRequest, ApplyResponse, AttrPath, ConfigureRequest, Diagnostic, Diagnostics,
    ImportRequest, ImportResponse, PlanRequest, PlanResponse, Provider, ProviderSchemas,
    ReadRequest, ReadResponse, Value,
};
use provider_config::ProviderConfig;
use std::sync::{Arc, RwLock};
use tokio::sync::{OnceCell, watch};

/// The JKE provider: configuration from the provider block, and one lazily connected
/// cluster client shared by every call in this process.
pub struct JkeProvider {
    schemas: ProviderSchemas,
    config: RwLock<Arc<ProviderConfig>>,
    cluster: OnceCell<Result<Cluster, String>>,
    /// The same cluster without the environment guard, with the EKS `jke/environment` tag:
    /// for `jke_cluster`, which writes the marker the guard reads (and checks it itself).
    unguarded: OnceCell<(Cluster, Option<String>)>,
    stop_tx: watch::Sender<bool>,
}

impl Default for JkeProvider {
    fn default() -> Self {
        Self::new()
    }
}

pub fn schemas() -> ProviderSchemas {
    ProviderSchemas {
        provider: provider_config::schema(),
        resources: vec![
            (
                application::TYPE_NAME.to_string(),
                application::schema::resource_schema(),
            ),
            (
                cluster::TYPE_NAME.to_string(),
                cluster::schema::resource_schema(),
            ),
        ],
        identities: vec![(
            application::TYPE_NAME.to_string(),
            application::schema::identity_schema(),
        )],
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
        }
    }

    fn config(&self) -> Arc<ProviderConfig> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The cluster, connected (and environment-checked) on first use; only Read, Apply and
    /// Import get here, so plans never need a reachable cluster.
    async fn cluster(&self) -> Result<&Cluster, Diagnostic> {
        let cfg = self.config();
        let got = self
            .cluster
            .get_or_init(|| async move {
                Cluster::connect(&cfg.cluster)
                    .await
                    .map_err(|e| e.to_string())
            })
            .await;
        got.as_ref()
            .map_err(|e| Diagnostic::error("Cannot use the cluster", e.clone()))
    }

    /// The cluster without the environment guard (only `jke_cluster` uses it). Only a
    /// successful connection is kept.
    async fn unguarded_cluster(&self) -> Result<(&Cluster, Option<&str>), Diagnostic> {
        let cfg = self.config();
        self.unguarded
            .get_or_try_init(|| async move { Cluster::connect_unguarded(&cfg.cluster).await })
            .await
            .map(|(c, tag)| (c, tag.as_deref()))
            .map_err(|e| Diagnostic::error("Cannot use the cluster", e.to_string()))
    }
}

fn unknown_type(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Unknown resource type",
        format!("this provider has no resource {type_name:?}"),
    )
    .into()
}

/// Problems in the provider's `defaults`, found by resolving a sample app over them.
fn validate_defaults(defaults: &Input) -> Diagnostics {
    let sample = Input {
        name: Some("sample".into()),
        image: Some("sample:1".into()),
        port: Some(8080),
        ..Input::default()
    };
    let spec = Spec::resolve(&sample, defaults);
    let set = serde_json::to_value(defaults).unwrap_or_default();
    let mut diags = Diagnostics::new();
    for p in validate::validate(&spec) {
        let attr = match p.path.first() {
            Some(validate::Seg::Attr(a)) => a.clone(),
            _ => continue,
        };
        // Report only what the defaults themselves set.
        if set.get(&attr).is_some_and(|v| !v.is_null()) {
            let path = convert::attr_path(&p.path);
            let mut full = AttrPath::attr("defaults");
            full.0.extend(path.0);
            diags.error_at(full, p.summary, format!("defaults.{}", p.detail));
        }
    }
    diags
}

#[tonic::async_trait]
impl Provider for JkeProvider {
    fn schemas(&self) -> &ProviderSchemas {
        &self.schemas
    }

    async fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let (cfg, mut diags) = provider_config::decode(config);
        diags.extend(validate_defaults(&cfg.defaults));
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
        match type_name {
            application::TYPE_NAME => application::validate(config, &self.config()),
            cluster::TYPE_NAME => cluster::validate(config),
            other => unknown_type(other),
        }
    }

    // UpgradeResourceState: the trait's default reads stored state with the current schema
    // (schema version 0 is the only one so far).

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        if req.type_name != application::TYPE_NAME && req.type_name != cluster::TYPE_NAME {
            return ReadResponse {
                diagnostics: unknown_type(&req.type_name),
                ..ReadResponse::default()
            };
        }
        if self.config().connection_unknown {
            // The cluster is being created in this run: keep what we know.
            return ReadResponse {
                new_state: req.current_state,
                private: req.private,
                new_identity: req.current_identity,
                ..ReadResponse::default()
            };
        }
        if req.type_name == cluster::TYPE_NAME {
            return match self.unguarded_cluster().await {
                Ok((c, tag)) => cluster::read(c, tag, &req).await,
                Err(d) => ReadResponse {
                    new_state: req.current_state,
                    diagnostics: d.into(),
                    ..ReadResponse::default()
                },
            };
        }
        match self.cluster().await {
            Ok(c) => application::read(c, &req).await,
            Err(d) => ReadResponse {
                new_state: req.current_state,
                diagnostics: d.into(),
                ..ReadResponse::default()
            },
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        match req.type_name.as_str() {
            application::TYPE_NAME => application::plan(&req, &self.config()),
            cluster::TYPE_NAME => cluster::plan(&req),
            other => PlanResponse {
                diagnostics: unknown_type(other),
                ..PlanResponse::default()
            },
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        if req.type_name == cluster::TYPE_NAME {
            return match self.unguarded_cluster().await {
                Ok((c, tag)) => cluster::apply(c, tag, &req, self.stop_tx.subscribe()).await,
                Err(d) => ApplyResponse {
                    new_state: req.prior_state,
                    diagnostics: d.into(),
                    ..ApplyResponse::default()
                },
            };
        }
        if req.type_name != application::TYPE_NAME {
            return ApplyResponse {
                diagnostics: unknown_type(&req.type_name),
                ..ApplyResponse::default()
            };
        }
        match self.cluster().await {
            Ok(c) => application::apply(c, &req, self.stop_tx.subscribe()).await,
            Err(d) => ApplyResponse {
                new_state: req.prior_state,
                diagnostics: d.into(),
                ..ApplyResponse::default()
            },
        }
    }

    async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse {
        if req.type_name == cluster::TYPE_NAME {
            if let Err(d) = cluster::import_target(&req) {
                return ImportResponse {
                    diagnostics: d.into(),
                    ..ImportResponse::default()
                };
            }
            return match self.unguarded_cluster().await {
                Ok((c, tag)) => cluster::import(c, tag, &req).await,
                Err(d) => ImportResponse {
                    diagnostics: d.into(),
                    ..ImportResponse::default()
                },
            };
        }
        if req.type_name != application::TYPE_NAME {
            return ImportResponse {
                diagnostics: unknown_type(&req.type_name),
                ..ImportResponse::default()
            };
        }
        if let Err(d) = application::import_target(&req) {
            return ImportResponse {
                diagnostics: d.into(),
                ..ImportResponse::default()
            };
        }
        match self.cluster().await {
            Ok(c) => application::import(c, &req, &self.config().defaults).await,
            Err(d) => ImportResponse {
                diagnostics: d.into(),
                ..ImportResponse::default()
            },
        }
    }

    async fn stop(&self) {
        let _ = self.stop_tx.send(true);
    }
}
