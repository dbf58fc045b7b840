//! Building one client per provider process from the provider's settings, and the
//! environment guard that runs before anything is read or written.

use super::error::KubeError;
use super::pool::PoolLayer;
use super::settings::{ClusterSettings, Connection, KubernetesSettings, Marker};
use base64::Engine;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::config::{
    AuthInfo, Cluster as KCluster, Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo,
    NamedCluster, NamedContext,
};
use kube::{Api, Client, Config};
use std::sync::Arc;

/// A connected, environment-checked cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub host: String,
    pub settings: ClusterSettings,
    /// Whether the API server answered this client yet (shared by the clones).
    pub(super) contact: Arc<super::retry::Contact>,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// kube Config from explicit settings; never from the current kubeconfig context.
async fn config_for(k: &KubernetesSettings) -> Result<Config, KubeError> {
    if let Some(path) = &k.config_path {
        let ctx = k.config_context.clone().ok_or_else(|| {
            KubeError::Settings(format!(
                "config_path {path} needs config_context: the current context is never used"
            ))
        })?;
        let kc = Kubeconfig::read_from(path)
            .map_err(|e| KubeError::Settings(format!("cannot read kubeconfig {path}: {e}")))?;
        let opts = KubeConfigOptions {
            context: Some(ctx.clone()),
            ..KubeConfigOptions::default()
        };
        return Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| KubeError::Settings(format!("kubeconfig {path}, context {ctx:?}: {e}")));
    }
    let host = k.host.clone().ok_or(KubeError::NoConnection)?;
    // An in-memory kubeconfig lets kube handle PEM data, tokens and client certs uniformly.
    let kc = Kubeconfig {
        clusters: vec![NamedCluster {
            name: "jke".into(),
            cluster: Some(KCluster {
                server: Some(host.clone()),
                certificate_authority_data: k.cluster_ca_certificate.as_deref().map(b64),
                ..KCluster::default()
            }),
            other: Default::default(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: "jke".into(),
            auth_info: Some(AuthInfo {
                token: k.token.clone().map(Into::into),
                client_certificate_data: k.client_certificate.as_deref().map(b64),
                client_key_data: k.client_key.as_deref().map(|s| b64(s).into()),
                ..AuthInfo::default()
            }),
            other: Default::default(),
        }],
        contexts: vec![NamedContext {
            name: "jke".into(),
            context: Some(Context {
                cluster: "jke".into(),
                user: Some("jke".into()),
                ..Context::default()
            }),
            other: Default::default(),
        }],
        current_context: Some("jke".into()),
        ..Kubeconfig::default()
    };
    Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| KubeError::Settings(format!("kubernetes settings for {host}: {e}")))
}

fn wrong_eks_environment(want: &str, tag: &str, host: &str) -> KubeError {
    KubeError::wrong_environment(format!(
        "configured for environment {want:?} but the EKS cluster at {host} is tagged {} = {tag:?}; nothing was changed",
        super::eks::ENVIRONMENT_TAG
    ))
}

impl Cluster {
    /// Connect and check the environment guard. Fails before any write.
    pub async fn connect(settings: &ClusterSettings) -> Result<Cluster, KubeError> {
        let (cluster, eks_environment) = Self::connect_unguarded(settings).await?;
        cluster.check_environment(eks_environment).await?;
        Ok(cluster)
    }

    /// Connect WITHOUT the environment guard; also returns the EKS cluster's
    /// `jke/environment` tag. Only for `jke_cluster`, which writes the marker the guard reads
    /// and checks it itself first with [`Cluster::check_marker_for`].
    pub async fn connect_unguarded(
        settings: &ClusterSettings,
    ) -> Result<(Cluster, Option<String>), KubeError> {
        let (client, host, eks_environment) = match &settings.connection {
            Connection::None => return Err(KubeError::NoConnection),
            Connection::Kubernetes(k) => {
                let mut config = config_for(k).await?;
                // Our own retry (kube/retry.rs) is bounded by each operation's deadline;
                // kube's would retry the same requests again, unbounded by it.
                config.default_retry = false;
                let host = config.cluster_url.to_string();
                let client = kube::client::ClientBuilder::try_from(config)
                    .map_err(|e| {
                        KubeError::Settings(format!("cannot build a client for {host}: {e}"))
                    })?
                    .with_layer(&PoolLayer::new(settings.max_requests))
                    .build();
                (client, host, None)
            }
            Connection::Eks(e) => {
                let conn = super::eks::connect(e)
                    .await
                    .map_err(|err| KubeError::Settings(err.to_string()))?;
                // The tag is known now: refuse a wrong environment before building anything.
                if let (Some(want), Some(tag)) = (&settings.environment, &conn.cluster.environment)
                    && want != tag
                {
                    return Err(wrong_eks_environment(want, tag, &conn.cluster.endpoint));
                }
                let client = super::eks::kube_client(&conn, settings.max_requests.max(1))
                    .map_err(|err| KubeError::Settings(err.to_string()))?;
                (
                    client,
                    conn.cluster.endpoint.clone(),
                    conn.cluster.environment.clone(),
                )
            }
        };
        let cluster = Cluster {
            client,
            host,
            settings: settings.clone(),
            contact: Arc::default(),
        };
        Ok((cluster, eks_environment))
    }

    /// The environment the cluster's marker ConfigMap names, if there is one.
    pub async fn environment_marker(&self) -> Result<Option<String>, KubeError> {
        let m = &self.settings.marker;
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), &m.namespace);
        Ok(self
            .retry("get the environment marker", || api.get_opt(&m.name))
            .await
            .map_err(|e| KubeError::from_kube(e, &self.host, &format!("get ConfigMap {m}")))?
            .and_then(|cm| cm.data.and_then(|d| d.get(&m.key).cloned())))
    }

    /// `jke_cluster`'s own guard, before it reads or writes anything else: the cluster may
    /// be unmarked (it is about to be marked), or marked with `resource_env`; see
    /// [`marker_allows`].
    pub async fn check_marker_for(
        &self,
        resource_env: &str,
        eks_tag: Option<&str>,
    ) -> Result<(), KubeError> {
        let marker = self.environment_marker().await?;
        marker_allows(
            self.settings.environment.as_deref(),
            resource_env,
            marker.as_deref(),
            eks_tag,
            &self.host,
            &self.settings.marker,
        )
    }

    /// "I thought it was dev, it was prod": refuse to work on a cluster of another
    /// environment than the provider block names.
    async fn check_environment(&self, eks_tag: Option<String>) -> Result<(), KubeError> {
        let Some(want) = &self.settings.environment else {
            return Ok(());
        };
        // On EKS the cluster's tag answers without a call to the API server.
        match eks_tag {
            Some(tag) if &tag == want => return Ok(()),
            Some(tag) => return Err(wrong_eks_environment(want, &tag, &self.host)),
            None => {}
        }
        let m = &self.settings.marker;
        match self.environment_marker().await? {
            Some(h) if &h == want => Ok(()),
            Some(h) => Err(KubeError::wrong_environment(format!(
                "configured for environment {want:?} but the cluster at {} is {h:?} (ConfigMap {m}); nothing was changed",
                self.host
            ))),
            None => Err(KubeError::unmarked(format!(
                "configured for environment {want:?} but the cluster at {} does not say which environment it is (no ConfigMap {m} with key {:?}); nothing was changed",
                self.host, m.key
            ))),
        }
    }
}

/// Whether `jke_cluster` with environment `resource_env` may write to a cluster whose marker
/// says `marker` (and whose EKS tag says `eks_tag`), under a provider configured for
/// `provider_env`. The first write to an unmarked cluster is how it gets its marker; after
/// that, the marker must match, and so must the EKS tag whenever there is one. Changing a cluster's environment takes deleting the marker
/// by hand.
pub fn marker_allows(
    provider_env: Option<&str>,
    resource_env: &str,
    marker: Option<&str>,
    eks_tag: Option<&str>,
    host: &str,
    m: &Marker,
) -> Result<(), KubeError> {
    if let Some(p) = provider_env
        && p != resource_env
    {
        return Err(KubeError::wrong_environment(format!(
            "configured for environment {p:?} but the cluster resource is for {resource_env:?}; nothing was changed. Use the same environment in both"
        )));
    }
    if let Some(t) = eks_tag
        && t != resource_env
    {
        return Err(KubeError::wrong_environment(format!(
            "the EKS cluster at {host} is tagged {} = {t:?} but the cluster resource is for {resource_env:?}; nothing was changed",
            super::eks::ENVIRONMENT_TAG
        )));
    }
    match marker {
        Some(have) if have != resource_env => Err(KubeError::wrong_environment(format!(
            "the cluster at {host} is marked as environment {have:?} (ConfigMap {m}) but the cluster resource is for {resource_env:?}; nothing was changed. To re-purpose the cluster, delete that ConfigMap first"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jke_cluster_may_mark_an_unmarked_cluster_but_not_remark_one() {
        let h = "https://k";
        let mk = Marker {
            namespace: "kube-system".into(),
            name: "jke-environment".into(),
            key: "name".into(),
        };
        let marker_allows = |p, r, m, t, h| marker_allows(p, r, m, t, h, &mk);
        assert!(marker_allows(None, "dev", None, None, h).is_ok());
        assert!(marker_allows(Some("dev"), "dev", None, None, h).is_ok());
        assert!(marker_allows(Some("dev"), "dev", Some("dev"), None, h).is_ok());
        assert!(marker_allows(Some("dev"), "dev", None, Some("dev"), h).is_ok());
        let refused = |r: Result<(), KubeError>| match r {
            Err(KubeError::WrongEnvironment { message, .. }) => message,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let m = refused(marker_allows(None, "dev", Some("prod"), None, h));
        assert!(m.contains("\"prod\"") && m.contains("\"dev\"") && m.contains(h));
        let m = refused(marker_allows(Some("prod"), "dev", None, None, h));
        assert!(m.contains("\"prod\"") && m.contains("\"dev\""));
        refused(marker_allows(Some("dev"), "dev", Some("prod"), None, h));
        refused(marker_allows(None, "dev", None, Some("prod"), h));
        refused(marker_allows(None, "dev", Some("prod"), Some("dev"), h));
    }
}
