//! The provider block: connection, environment guard, field manager and org-wide defaults.

use super::application::schema::{Mode, settings};
use super::convert;
use super::notifications::{self, Notifications};
use crate::app::application::spec::Input;
use crate::app::cluster::bundle::{MARKER_KEY, MARKER_NAME, MARKER_NAMESPACE};
use crate::app::foreign_fields::{IgnoreRule, Policy};
use crate::kube::settings::{
    ClusterSettings, Connection, DEFAULT_MAX_REQUESTS, EksSettings, FieldManager,
    KubernetesSettings, Marker,
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
                s("environment", "Environment this configuration is for (e.g. `prod`). When set, every read and write first checks that the cluster says the same (ConfigMap `kube-system/jke-environment`, key `name`, or the EKS tag `jke/environment`) and fails before touching anything if not. The exception: a `jke_cluster` with the same environment marks a cluster that has no marker yet. When not set, every plan or apply that reaches the cluster warns (naming the cluster's marker, if it has one)."),
                Attribute::typed("max_concurrent_requests", Type::Number, "At most this many requests to the API server at once, shared by every app and call of one Terraform run (reads, writes, deletes, the start of watches). Default 16; 1 to 256.").optional(),
                Attribute::typed("require_environment", Type::Bool, "Make a missing `environment` an error instead of a warning. Recommended for every platform configuration: a provider block without `environment` can then never act on a cluster it was not meant for. Default false.").optional(),
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
                    defaults_attributes(),
                    "Organisation-wide defaults for every `jke_application`; a value set on the resource wins.",
                )
                .optional(),
                notifications::attribute(),
            ],
        },
    }
}

/// The app settings the platform defaults, and `drift`, which only the platform sets (the
/// resource's `drift` is the computed map).
fn defaults_attributes() -> Vec<Attribute> {
    let mut v = settings(Mode::Defaults);
    v.push(
        Attribute::nested(
            "drift",
            Nesting::Single,
            vec![
                Attribute::nested(
                    "ignore",
                    Nesting::List,
                    vec![
                        Attribute::typed("manager", Type::String, "Field manager whose writes are left alone, e.g. `istio-sidecar-injector` or `vault-agent-injector` (`kubectl get deploy web --show-managed-fields -o yaml` names the managers).").optional(),
                        Attribute::typed("path", Type::String, "Field path left alone, with everything below it, as the `drift` map shows paths: `spec.template.metadata.annotations`, `spec.template.spec.containers[name=istio-proxy]`. With `manager`, only that manager's writes there.").optional(),
                    ],
                    "Changes other tools make on purpose: matching fields are neither drift nor removed by apply. Each rule sets `manager`, `path` or both, e.g. `[{ manager = \"istio-sidecar-injector\" }, { path = \"spec.template.metadata.annotations\" }]`.",
                )
                .optional(),
            ],
            "What counts as drift. Every field of an app's objects set by another field manager is drift (and apply removes it), except the cluster's own writes and what `ignore` names.",
        )
        .optional(),
    );
    v
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
    /// `require_environment = true`: no `environment` is an error rather than a warning.
    pub require_environment: bool,
    /// `defaults.drift.ignore`: other managers' changes that are not drift.
    pub drift_ignore: Vec<IgnoreRule>,
    /// Deploy notifications (`notifications`), when set and known.
    pub notifications: Option<Notifications>,
}

impl ProviderConfig {
    /// Who the provider is and what it leaves alone, for drift and apply.
    pub fn drift_policy(&self) -> Policy<'_> {
        Policy {
            own_manager: &self.cluster.field_manager.name,
            ignore: &self.drift_ignore,
        }
    }
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
                max_requests: DEFAULT_MAX_REQUESTS,
            },
            defaults: Input::default(),
            connection_unknown: false,
            defaults_unknown: false,
            require_environment: false,
            drift_ignore: Vec::new(),
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
        if s.config_context.as_deref() == Some("") {
            diags.error_at(
                path.then_attr("config_context"),
                "Empty kubeconfig context",
                "kubernetes.config_context = \"\" names no context; set the name of a context of the kubeconfig (`kubectl config get-contexts` lists them)",
            );
        }
        if s.token.is_some() && s.client_certificate.is_some() {
            diags.error_at(
                path.then_attr("token"),
                "Ambiguous credentials",
                "kubernetes.token and kubernetes.client_certificate are both set, so which identity the provider acts as would depend on the API server; set one of them (a bearer token, or a client certificate with client_key)",
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
    match config.get("max_concurrent_requests") {
        None | Some(Value::Null | Value::Unknown) => {}
        Some(v) => match v.as_number().and_then(|n| n.as_i64()) {
            Some(n @ 1..=256) => out.cluster.max_requests = n as usize,
            _ => diags.error_at(
                AttrPath::attr("max_concurrent_requests"),
                "Invalid max_concurrent_requests",
                format!(
                    "max_concurrent_requests = {} must be a whole number from 1 to 256 (default {DEFAULT_MAX_REQUESTS})",
                    v.as_number().map(|n| n.as_f64().to_string()).unwrap_or_else(|| "?".into())
                ),
            ),
        },
    }
    out.require_environment = config
        .get("require_environment")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let environment_unknown = config.get("environment").is_some_and(Value::is_unknown);
    if out.cluster.environment.as_deref() == Some("") {
        diags.error_at(
            AttrPath::attr("environment"),
            "Empty environment",
            "environment = \"\" names no environment; set the name the cluster's marker says (e.g. \"prod\"), or leave it out",
        );
    } else if out.require_environment && out.cluster.environment.is_none() && !environment_unknown {
        diags.error_at(
            AttrPath::attr("environment"),
            "Missing environment",
            "require_environment = true and no environment is set: set environment = \"<name>\" (the name in the cluster's marker, ConfigMap kube-system/jke-environment), so the provider refuses any other cluster",
        );
    }
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
        let fractions = convert::whole_number_errors(d, &AttrPath::attr("defaults"));
        if fractions.has_errors() {
            diags.extend(fractions);
            return (out, diags);
        }
        let mut json = convert::to_json(d, &ty, &AttrPath::attr("defaults"), &mut unknowns);
        out.defaults_unknown = !unknowns.is_empty();
        let drift = json.as_object_mut().and_then(|m| m.remove("drift"));
        out.drift_ignore = drift_ignore(drift.as_ref(), &mut diags);
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

/// `defaults.drift.ignore`: each rule names a manager, a path or both.
fn drift_ignore(drift: Option<&serde_json::Value>, diags: &mut Diagnostics) -> Vec<IgnoreRule> {
    let Some(rules) = drift
        .and_then(|d| d.get("ignore"))
        .and_then(|r| r.as_array())
    else {
        return Vec::new();
    };
    let at = |i: usize| {
        AttrPath::attr("defaults")
            .then_attr("drift")
            .then_attr("ignore")
            .then_index(i)
    };
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let rule = match serde_json::from_value::<IgnoreRule>(r.clone()) {
            Ok(rule) => rule,
            Err(e) => {
                diags.error_at(at(i), "Invalid drift ignore rule", e.to_string());
                continue;
            }
        };
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        if blank(&rule.manager) && blank(&rule.path) {
            diags.error_at(
                at(i),
                "Empty drift ignore rule",
                format!("defaults.drift.ignore[{i}] must set `manager`, `path` or both, e.g. {{ manager = \"istio-sidecar-injector\" }} or {{ path = \"spec.template.metadata.annotations\" }}; an empty rule would hide every change"),
            );
            continue;
        }
        out.push(rule);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn errors(config: &Value) -> Vec<String> {
        decode(config)
            .1
            .0
            .into_iter()
            .filter(|d| d.severity == crate::plugin::Severity::Error)
            .map(|d| d.detail)
            .collect()
    }

    #[test]
    fn ambiguous_or_empty_connection_settings_are_refused() {
        let both = obj(&[(
            "kubernetes",
            obj(&[
                ("host", Value::string("https://k:6443")),
                ("token", Value::string("t")),
                ("client_certificate", Value::string("c")),
                ("client_key", Value::string("k")),
            ]),
        )]);
        let e = errors(&both);
        assert!(
            e.len() == 1
                && e[0].starts_with("kubernetes.token")
                && e[0].contains("set one of them"),
            "{e:?}"
        );
        let empty_context = obj(&[(
            "kubernetes",
            obj(&[
                ("config_path", Value::string("/k")),
                ("config_context", Value::string("")),
            ]),
        )]);
        let e = errors(&empty_context);
        assert!(
            e.len() == 1 && e[0].starts_with("kubernetes.config_context"),
            "{e:?}"
        );
    }

    #[test]
    fn max_concurrent_requests_sizes_the_pool_and_names_itself_when_out_of_range() {
        let (c, _) = decode(&obj(&[]));
        assert_eq!(c.cluster.max_requests, DEFAULT_MAX_REQUESTS);
        let (c, d) = decode(&obj(&[("max_concurrent_requests", Value::int(4))]));
        assert_eq!((c.cluster.max_requests, d.has_errors()), (4, false));
        for bad in [0, 257, -1] {
            let e = errors(&obj(&[("max_concurrent_requests", Value::int(bad))]));
            assert!(
                e.len() == 1 && e[0].contains("from 1 to 256"),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn require_environment_makes_a_missing_environment_an_error() {
        assert!(errors(&obj(&[])).is_empty());
        let e = errors(&obj(&[("require_environment", Value::Bool(true))]));
        assert!(e.len() == 1 && e[0].starts_with("environment"), "{e:?}");
        let ok = obj(&[
            ("require_environment", Value::Bool(true)),
            ("environment", Value::string("prod")),
        ]);
        assert!(errors(&ok).is_empty());
        let unknown = obj(&[
            ("require_environment", Value::Bool(true)),
            ("environment", Value::Unknown),
        ]);
        assert!(errors(&unknown).is_empty());
    }

    #[test]
    fn a_fraction_in_defaults_names_the_attribute() {
        let c = obj(&[(
            "defaults",
            obj(&[("replicas", Value::Number(crate::plugin::Number::Float(1.5)))]),
        )]);
        let e = errors(&c);
        assert_eq!(
            e,
            vec!["defaults.replicas = 1.5 must be a whole number (e.g. 1)"]
        );
    }

    #[test]
    fn drift_ignore_rules_are_read_and_an_empty_one_is_refused() {
        let ty = schema().block.value_type();
        let config = convert::from_json(
            &serde_json::json!({"defaults": {"cpu": "1", "drift": {"ignore": [
                {"manager": "istio-sidecar-injector"},
                {"path": "spec.template.metadata.annotations"},
                {}
            ]}}}),
            &ty,
        );
        let (c, diags) = decode(&config);
        assert_eq!(
            c.drift_ignore,
            vec![
                IgnoreRule {
                    manager: Some("istio-sidecar-injector".into()),
                    path: None
                },
                IgnoreRule {
                    manager: None,
                    path: Some("spec.template.metadata.annotations".into())
                }
            ]
        );
        assert_eq!(c.defaults.cpu.as_deref(), Some("1"));
        let shown = format!("{diags:?}");
        assert!(diags.has_errors() && shown.contains("ignore[2]"), "{shown}");
    }
}
