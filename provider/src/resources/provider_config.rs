//! The provider block: connection, environment guard, field manager and org-wide defaults.

use super::application::schema::{Mode, settings};
use super::convert;
use super::notifications::{self, Notifications};
use crate::app::application::spec::Input;
use crate::app::cluster::bundle::{MARKER_KEY, MARKER_NAME, MARKER_NAMESPACE};
use crate::kube::settings::{
    ClusterSettings, Connection, EksSettings, FieldManager, KubernetesSettings, Marker,
};
use crate::plugin::{AttrPath, Attribute, Block, Diagnostics, Nesting, Schema, Type, Value};

pub fn schema() -> Schema {
    let s = |name: &str, d: &str| Attribute::typed(name, Type::String, d).optional();
    Schema {
        version: 0,
        block: Block {
            description: "The JKE provider: connects to one cluster and holds the platform team's defaults for every `jke_application`.".into(),
            deprecated: false,
            attributes: vec![
                Attribute::nested(
                    "kubernetes",
                    Nesting::Single,
                    vec![
                        s("host", "API server URL, e.g. `https://1.2.3.4:6443`."),
                        s("cluster_ca_certificate", "PEM CA certificate of the API server."),
                        s("token", "Bearer token.").sensitive(),
                        s("client_certificate", "PEM client certificate."),
                        s("client_key", "PEM client key.").sensitive(),
                        s("config_path", "Path to a kubeconfig file. Requires `config_context`: the provider never uses the file's current context."),
                        s("config_context", "Context of `config_path` to use."),
                    ],
                    "Explicit cluster connection. Values may be unknown until apply (a cluster created in the same run).",
                )
                .optional(),
                Attribute::nested(
                    "eks",
                    Nesting::Single,
                    vec![
                        s("cluster_name", "EKS cluster name."),
                        s("region", "AWS region. Default: from the AWS environment/profile."),
                        s("role_arn", "IAM role to assume before calling EKS."),
                        s("profile", "AWS shared-config profile."),
                    ],
                    "Connect to an EKS cluster: endpoint and CA from DescribeCluster, a short-lived token signed with the standard AWS credential chain.",
                )
                .optional(),
                s("environment", "Environment this configuration is for (e.g. `prod`). When set, every read and write first checks that the cluster says the same (ConfigMap `kube-system/jke-environment`, key `name`, or the EKS tag `jke/environment`) and fails before touching anything if not. The exception: a `jke_cluster` with the same environment marks a cluster that has no marker yet."),
                Attribute::nested(
                    "field_manager",
                    Nesting::Single,
                    vec![
                        s("name", "Field manager for server-side apply. Default `jke`."),
                        Attribute::typed("force_conflicts", Type::Bool, "Take over fields owned by other managers. Default true; with false, a conflict is an error naming the other manager.").optional(),
                    ],
                    "Server-side apply settings.",
                )
                .optional(),
                Attribute::nested(
                    "defaults",
                    Nesting::Single,
                    settings(Mode::Defaults),
                    "Organisation-wide defaults for every `jke_application`; a value set on the resource wins.",
                )
                .optional(),
                notifications::attribute(),
            ],
        },
    }
}

/// The decoded provider block.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub cluster: ClusterSettings,
    pub defaults: Input,
    /// Some connection value is unknown (cluster created in this run): plans must not call
    /// the cluster.
    pub connection_unknown: bool,
    /// Some default is unknown: plans mark settings they would fill from it unknown.
    pub defaults_unknown: bool,
    /// Deploy notifications (`notifications`), when set and known.
    pub notifications: Option<Notifications>,
}

/// Where the guard looks: the marker `jke_cluster` writes.
pub fn environment_marker() -> Marker {
    Marker {
        namespace: MARKER_NAMESPACE.into(),
        name: MARKER_NAME.into(),
        key: MARKER_KEY.into(),
    }
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            cluster: ClusterSettings {
                connection: Connection::None,
                environment: None,
                marker: environment_marker(),
                field_manager: FieldManager::default(),
            },
            defaults: Input::default(),
            connection_unknown: false,
            defaults_unknown: false,
            notifications: None,
        }
    }
}

fn str_at(v: &Value, attr: &str) -> Option<String> {
    v.get(attr).and_then(Value::as_str).map(str::to_string)
}

pub fn decode(config: &Value) -> (ProviderConfig, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = ProviderConfig::default();
    let k = config.get("kubernetes").cloned().unwrap_or_default();
    let e = config.get("eks").cloned().unwrap_or_default();
    out.connection_unknown = k.contains_unknown() || e.contains_unknown();
    let has_k = matches!(k, Value::Object(_));
    let has_e = matches!(e, Value::Object(_));
    if has_k && has_e {
        diags.error_at(
            AttrPath::attr("eks"),
            "Conflicting connection settings",
            "set either kubernetes = { ... } or eks = { ... } in the provider block, not both",
        );
    }
    if has_k {
        let s = KubernetesSettings {
            host: str_at(&k, "host"),
            cluster_ca_certificate: str_at(&k, "cluster_ca_certificate"),
            token: str_at(&k, "token"),
            client_certificate: str_at(&k, "client_certificate"),
            client_key: str_at(&k, "client_key"),
            config_path: str_at(&k, "config_path"),
            config_context: str_at(&k, "config_context"),
        };
        let path = AttrPath::attr("kubernetes");
        if s.config_path.is_some()
            && s.config_context.is_none()
            && !k.get("config_context").is_some_and(Value::is_unknown)
        {
            diags.error_at(
                path.then_attr("config_context"),
                "Missing kubeconfig context",
                "kubernetes.config_path needs kubernetes.config_context: the provider never falls back to the kubeconfig's current context (it may not be the cluster you think)",
            );
        }
        if s.config_path.is_some() && s.host.is_some() {
            diags.error_at(
                path.then_attr("host"),
                "Conflicting connection settings",
                "set either kubernetes.config_path (with config_context) or kubernetes.host, not both",
            );
        }
        if s.client_certificate.is_some() != s.client_key.is_some() {
            diags.error_at(
                path.then_attr("client_key"),
                "Incomplete client certificate",
                "kubernetes.client_certificate and kubernetes.client_key go together",
            );
        }
        out.cluster.connection = Connection::Kubernetes(s);
    } else if has_e {
        let cluster_name = str_at(&e, "cluster_name");
        if cluster_name.is_none() && !e.get("cluster_name").is_some_and(Value::is_unknown) {
            diags.error_at(
                AttrPath::attr("eks").then_attr("cluster_name"),
                "Missing EKS cluster name",
                "eks.cluster_name is required to connect to EKS",
            );
        }
        out.cluster.connection = Connection::Eks(EksSettings {
            cluster_name: cluster_name.unwrap_or_default(),
            region: str_at(&e, "region"),
            role_arn: str_at(&e, "role_arn"),
            profile: str_at(&e, "profile"),
            // Endpoint overrides come from the standard AWS_ENDPOINT_URL* environment.
            endpoint_url: None,
        });
    }
    out.cluster.environment = str_at(config, "environment");
    if let Some(fm) = config
        .get("field_manager")
        .filter(|v| matches!(v, Value::Object(_)))
    {
        if let Some(n) = str_at(fm, "name") {
            out.cluster.field_manager.name = n;
        }
        if let Some(f) = fm.get("force_conflicts").and_then(Value::as_bool) {
            out.cluster.field_manager.force_conflicts = f;
        }
    }
    if let Some(d) = config
        .get("defaults")
        .filter(|v| matches!(v, Value::Object(_)))
    {
        let ty = schema()
            .block
            .attribute("defaults")
            .map(Attribute::value_type)
            .unwrap_or(Type::Dynamic);
        let mut unknowns = Vec::new();
        let json = convert::to_json(d, &ty, &AttrPath::attr("defaults"), &mut unknowns);
        out.defaults_unknown = !unknowns.is_empty();
        match serde_json::from_value::<Input>(json) {
            Ok(i) => out.defaults = i,
            Err(err) => diags.error_at(
                AttrPath::attr("defaults"),
                "Invalid defaults",
                err.to_string(),
            ),
        }
    }
    out.notifications = notifications::decode(config, &mut diags);
    (out, diags)
}
