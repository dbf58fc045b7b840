//! The cluster-level platform model of `jke_cluster`: the environment marker, cert-manager
//! ClusterIssuers, and app namespaces with their LimitRange and ResourceQuota.
//!
//! Like the application model: [`Input`] is what the user wrote, [`Spec`] has every default
//! resolved, [`validate`] says what is wrong (with the paths each problem depends on),
//! [`render`] gives the objects in apply order (deterministic JSON manifests with apiVersion
//! and kind), [`drift`] compares them with live objects and [`import`] rebuilds a spec from
//! live objects. Pure: no I/O, no Terraform, no cluster.

use super::bundle::{LABEL_MANAGED_BY, MANAGED_BY};
use super::live_diff;
use super::quantity::{ACCEPTED_FORMS, Quantity};
use super::spec::StringMap;
use super::validate::{
    FieldPath, Invalid, Seg, is_dns_label, is_dns_subdomain, is_label_value, is_qualified_name,
    parse_duration,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The environment marker: ConfigMap `kube-system/jke-environment`, key `name`. The
/// provider's environment guard reads it (see `kube::client`).
pub const MARKER_NAMESPACE: &str = "kube-system";
pub const MARKER_NAME: &str = "jke-environment";
pub const MARKER_KEY: &str = "name";
/// Further keys of the marker: defaults for apps, for people and tools reading the cluster.
pub const MARKER_INGRESS_CLASS: &str = "ingress_class";
pub const MARKER_BASE_DOMAIN: &str = "base_domain";
pub const MARKER_DEFAULT_ISSUER: &str = "default_issuer";

/// Label that tells jke_cluster's objects from the apps' (both are `managed-by=jke`).
pub const LABEL_COMPONENT: &str = "jke.dev/component";
pub const COMPONENT: &str = "cluster";

/// Names of the per-namespace objects.
pub const LIMIT_RANGE_NAME: &str = "jke-limits";
pub const QUOTA_NAME: &str = "jke-quota";

pub mod defaults {
    /// Let's Encrypt's production ACME directory.
    pub const ACME_SERVER: &str = "https://acme-v02.api.letsencrypt.org/directory";
    /// How long apply waits for cert-manager's CRD (installed in the same apply).
    pub const CRD_WAIT_TIMEOUT: &str = "5m";
}

/// Longest accepted `crd_wait_timeout`.
pub const MAX_CRD_WAIT: Duration = Duration::from_secs(3600);

/// Namespaces the platform never takes over (and could never delete).
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

// ---------------------------------------------------------------------------------------------
// Input: what the user wrote. Elements may be null where Terraform had an unknown value.

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Input {
    pub environment: Option<String>,
    pub ingress_class: Option<String>,
    pub base_domain: Option<String>,
    pub issuers: Option<Vec<Option<IssuerInput>>>,
    pub namespaces: Option<BTreeMap<String, Option<NamespaceInput>>>,
    pub crd_wait_timeout: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct IssuerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub server: Option<String>,
    pub http01_ingress_class: Option<String>,
    pub dns01_route53: Option<Route53Input>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Route53Input {
    pub region: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub role_arn: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct NamespaceInput {
    pub labels: Option<StringMap>,
    pub limit_range: Option<LimitRange>,
    pub quota: Option<Quota>,
}

// ---------------------------------------------------------------------------------------------
// Spec: resolved. Field names are the Terraform attribute names.

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Spec {
    pub environment: String,
    pub ingress_class: Option<String>,
    pub base_domain: Option<String>,
    pub issuers: Option<Vec<Issuer>>,
    pub namespaces: Option<BTreeMap<String, NamespaceSpec>>,
    pub crd_wait_timeout: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Issuer {
    pub name: String,
    pub email: String,
    pub server: String,
    pub http01_ingress_class: Option<String>,
    pub dns01_route53: Option<Route53>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Route53 {
    pub region: String,
    pub hosted_zone_id: String,
    pub role_arn: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct NamespaceSpec {
    pub labels: Option<StringMap>,
    pub limit_range: Option<LimitRange>,
    pub quota: Option<Quota>,
}

/// Container defaults of a namespace (LimitRange `jke-limits`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct LimitRange {
    pub default_cpu: Option<String>,
    pub default_memory: Option<String>,
    pub default_request_cpu: Option<String>,
    pub default_request_memory: Option<String>,
}

/// Totals a namespace may use (ResourceQuota `jke-quota`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Quota {
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub pods: Option<i64>,
}

impl Spec {
    /// Fill in the defaults. Never fails: [`validate`] says what is wrong with the result.
    pub fn resolve(input: &Input) -> Spec {
        let issuers = input.issuers.as_ref().map(|list| {
            list.iter()
                .map(|i| {
                    let i = i.clone().unwrap_or_default();
                    Issuer {
                        name: i.name.unwrap_or_default(),
                        email: i.email.unwrap_or_default(),
                        server: i.server.unwrap_or_else(|| defaults::ACME_SERVER.into()),
                        http01_ingress_class: i.http01_ingress_class,
                        dns01_route53: i.dns01_route53.map(|r| Route53 {
                            region: r.region.unwrap_or_default(),
                            hosted_zone_id: r.hosted_zone_id.unwrap_or_default(),
                            role_arn: r.role_arn,
                        }),
                    }
                })
                .collect()
        });
        let namespaces = input.namespaces.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = v.clone().unwrap_or_default();
                    (
                        k.clone(),
                        NamespaceSpec {
                            labels: v.labels,
                            limit_range: v.limit_range,
                            quota: v.quota,
                        },
                    )
                })
                .collect()
        });
        Spec {
            environment: input.environment.clone().unwrap_or_default(),
            ingress_class: input.ingress_class.clone(),
            base_domain: input.base_domain.clone(),
            issuers,
            namespaces,
            crd_wait_timeout: input
                .crd_wait_timeout
                .clone()
                .unwrap_or_else(|| defaults::CRD_WAIT_TIMEOUT.into()),
        }
    }

    /// The resource ID: the environment (one jke_cluster per cluster).
    pub fn id(&self) -> String {
        self.environment.clone()
    }

    /// The first issuer: the one apps should use (the provider's built-in app default is
    /// `letsencrypt`; `defaults.ingress.issuer` in the provider block names another).
    pub fn default_issuer(&self) -> Option<String> {
        self.issuers
            .as_ref()
            .and_then(|l| l.first())
            .map(|i| i.name.clone())
    }

    pub fn crd_wait(&self) -> Duration {
        parse_duration(&self.crd_wait_timeout).unwrap_or(Duration::from_secs(300))
    }

    fn issuer_list(&self) -> &[Issuer] {
        self.issuers.as_deref().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

fn seg(a: &str) -> Seg {
    Seg::Attr(a.to_string())
}

struct Report(Vec<Invalid>);

impl Report {
    fn add(&mut self, at: FieldPath, summary: &str, detail: String) {
        self.related(at, Vec::new(), summary, detail);
    }
    fn related(&mut self, at: FieldPath, others: Vec<FieldPath>, summary: &str, detail: String) {
        let mut depends_on = vec![at.clone()];
        depends_on.extend(others);
        self.0.push(Invalid {
            path: at,
            depends_on,
            summary: summary.to_string(),
            detail,
        });
    }
}

fn at(base: &FieldPath, more: &[Seg]) -> FieldPath {
    let mut p = base.clone();
    p.extend_from_slice(more);
    p
}

/// "platform@example.com": one '@', a local part without spaces, a DNS name with a dot.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && is_dns_subdomain(&domain.to_ascii_lowercase())
}

/// "eu-west-1", "us-gov-west-1".
pub fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// "Z0123456789ABCDEFGHIJ" (no `/hostedzone/` prefix).
pub fn is_hosted_zone_id(s: &str) -> bool {
    s.len() >= 2
        && s.len() <= 32
        && s.starts_with('Z')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// "arn:aws:iam::111122223333:role/cert-manager" (any partition, role paths allowed).
pub fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty()))
}

fn is_https_url(s: &str) -> bool {
    s.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or_default();
        !host.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Name of the Secret cert-manager keeps an issuer's ACME account key in.
pub fn account_key_secret(issuer: &str) -> String {
    format!("{issuer}-acme-account-key")
}

/// All problems with `spec`; empty when it can be applied.
pub fn validate(spec: &Spec) -> Vec<Invalid> {
    let mut r = Report(Vec::new());
    let env = &spec.environment;
    if !is_dns_label(env) {
        r.add(
            vec![seg("environment")],
            "Invalid environment",
            format!("environment {env:?} must be a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. \"dev\", \"stg\", \"prod\")"),
        );
    }
    if let Some(c) = &spec.ingress_class
        && !is_dns_subdomain(c)
    {
        r.add(
            vec![seg("ingress_class")],
            "Invalid ingress class",
            format!("ingress_class {c:?} must be the name of an IngressClass: a lowercase DNS name such as \"nginx\" or \"alb\""),
        );
    }
    if let Some(d) = &spec.base_domain
        && (!is_dns_subdomain(d) || !d.contains('.'))
    {
        r.add(
            vec![seg("base_domain")],
            "Invalid base domain",
            format!("base_domain {d:?} must be a lowercase DNS name with at least one dot, without a scheme or a leading \"*.\" (e.g. \"apps.example.com\")"),
        );
    }
    match parse_duration(&spec.crd_wait_timeout) {
        Some(d) if d <= MAX_CRD_WAIT => {}
        _ => r.add(
            vec![seg("crd_wait_timeout")],
            "Invalid CRD wait timeout",
            format!("crd_wait_timeout {:?} must be a duration from \"0s\" (do not wait) to \"1h\", such as \"90s\", \"5m\" or \"1h\"", spec.crd_wait_timeout),
        ),
    }
    check_issuers(&mut r, spec);
    for (name, ns) in spec.namespaces.iter().flatten() {
        check_namespace(&mut r, name, ns);
    }
    r.0
}

fn check_issuers(r: &mut Report, spec: &Spec) {
    let mut seen = BTreeSet::new();
    for (i, issuer) in spec.issuer_list().iter().enumerate() {
        let base = vec![seg("issuers"), Seg::Index(i)];
        let n = &issuer.name;
        if !is_dns_subdomain(n) || !is_dns_subdomain(&account_key_secret(n)) {
            r.add(
                at(&base, &[seg("name")]),
                "Invalid issuer name",
                format!("issuers[{i}].name {n:?} must be a lowercase DNS name of at most 230 characters, such as \"letsencrypt\" or \"letsencrypt-staging\""),
            );
        } else if !seen.insert(n.clone()) {
            r.add(
                at(&base, &[seg("name")]),
                "Duplicate issuer name",
                format!("issuers[{i}].name {n:?} is used by an earlier issuer; each ClusterIssuer needs its own name"),
            );
        }
        if !is_email(&issuer.email) {
            r.add(
                at(&base, &[seg("email")]),
                "Invalid email",
                format!("issuers[{i}].email {:?} must be an email address such as \"platform@example.com\" (the ACME CA sends expiry notices there)", issuer.email),
            );
        }
        if !is_https_url(&issuer.server) {
            r.add(
                at(&base, &[seg("server")]),
                "Invalid ACME server",
                format!("issuers[{i}].server {:?} must be the https:// URL of an ACME directory, such as {:?} (Let's Encrypt production, the default) or \"https://acme-staging-v02.api.letsencrypt.org/directory\"", issuer.server, defaults::ACME_SERVER),
            );
        }
        let http = at(&base, &[seg("http01_ingress_class")]);
        let dns = at(&base, &[seg("dns01_route53")]);
        match (&issuer.http01_ingress_class, &issuer.dns01_route53) {
            (Some(_), Some(_)) => r.related(
                dns.clone(),
                vec![http.clone()],
                "Conflicting ACME solvers",
                format!("issuers[{i}] sets both http01_ingress_class and dns01_route53; set exactly one: HTTP-01 through an ingress class, or DNS-01 through Route53"),
            ),
            (None, None) => r.related(
                base.clone(),
                vec![http.clone(), dns.clone()],
                "Missing ACME solver",
                format!("issuers[{i}] needs exactly one solver: http01_ingress_class = \"nginx\" (HTTP-01 through that ingress class) or dns01_route53 = {{ region = \"eu-west-1\", hosted_zone_id = \"Z0123456789ABCDEFGHIJ\" }} (DNS-01)"),
            ),
            _ => {}
        }
        if let Some(c) = &issuer.http01_ingress_class
            && !is_dns_subdomain(c)
        {
            r.add(
                http,
                "Invalid ingress class",
                format!("issuers[{i}].http01_ingress_class {c:?} must be the name of an IngressClass, such as \"nginx\" or \"alb\""),
            );
        }
        if let Some(r53) = &issuer.dns01_route53 {
            if !is_aws_region(&r53.region) {
                r.add(
                    at(&dns, &[seg("region")]),
                    "Invalid AWS region",
                    format!("issuers[{i}].dns01_route53.region {:?} must be an AWS region such as \"eu-west-1\"", r53.region),
                );
            }
            if !is_hosted_zone_id(&r53.hosted_zone_id) {
                r.add(
                    at(&dns, &[seg("hosted_zone_id")]),
                    "Invalid hosted zone ID",
                    format!("issuers[{i}].dns01_route53.hosted_zone_id {:?} must be a Route53 hosted zone ID such as \"Z0123456789ABCDEFGHIJ\" (without the /hostedzone/ prefix)", r53.hosted_zone_id),
                );
            }
            if let Some(a) = &r53.role_arn
                && !is_role_arn(a)
            {
                r.add(
                    at(&dns, &[seg("role_arn")]),
                    "Invalid role ARN",
                    format!("issuers[{i}].dns01_route53.role_arn {a:?} must be an IAM role ARN such as \"arn:aws:iam::111122223333:role/cert-manager-dns\""),
                );
            }
        }
    }
}

fn check_quantity(r: &mut Report, p: FieldPath, shown: &str, v: &str, positive: bool) {
    match Quantity::parse(v) {
        Ok(q) if positive && q.millis() == 0 => r.add(
            p,
            "Invalid quantity",
            format!("{shown} {v:?} must be more than zero"),
        ),
        Ok(_) => {}
        Err(_) => r.add(
            p,
            "Invalid quantity",
            format!("{shown} {v:?} is not a Kubernetes quantity; use {ACCEPTED_FORMS}"),
        ),
    }
}

fn check_namespace(r: &mut Report, name: &str, ns: &NamespaceSpec) {
    let base = vec![seg("namespaces"), Seg::Key(name.to_string())];
    let shown = format!("namespaces[{name:?}]");
    if !is_dns_label(name) {
        r.add(
            base.clone(),
            "Invalid namespace name",
            format!("namespace name {name:?} must be a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. \"shop\", \"team-a\")"),
        );
    } else if SYSTEM_NAMESPACES.contains(&name) || name.starts_with("kube-") {
        r.add(
            base.clone(),
            "System namespace",
            format!("namespace {name:?} belongs to Kubernetes; jke_cluster manages only app namespaces (removing one from `namespaces` deletes it). Choose another name, e.g. \"apps\""),
        );
    }
    for (k, v) in ns.labels.iter().flatten() {
        let p = at(&base, &[seg("labels"), Seg::Key(k.clone())]);
        if k == LABEL_MANAGED_BY || k == LABEL_COMPONENT {
            r.add(p, "Reserved label", format!("{shown}.labels key {k:?} is set by JKE itself (it finds the objects it manages by it); choose another key"));
        } else if !is_qualified_name(k) {
            r.add(p, "Invalid label key", format!("{shown}.labels key {k:?} must be a name of at most 63 letters, digits, '-', '_' or '.', optionally prefixed by a DNS name and '/' (e.g. \"team\", \"example.com/tier\")"));
        } else if !is_label_value(v) {
            r.add(p, "Invalid label value", format!("{shown}.labels[{k:?}] value {v:?} must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"));
        }
    }
    if let Some(lr) = &ns.limit_range {
        let lp = at(&base, &[seg("limit_range")]);
        let fields = [
            ("default_cpu", &lr.default_cpu),
            ("default_memory", &lr.default_memory),
            ("default_request_cpu", &lr.default_request_cpu),
            ("default_request_memory", &lr.default_request_memory),
        ];
        if fields.iter().all(|(_, v)| v.is_none()) {
            r.add(lp.clone(), "Empty limit range", format!("{shown}.limit_range needs at least one of default_cpu, default_memory, default_request_cpu, default_request_memory (e.g. {{ default_cpu = \"500m\", default_memory = \"512Mi\" }}); remove it to have no LimitRange"));
        }
        for (f, v) in fields {
            if let Some(v) = v {
                check_quantity(
                    r,
                    at(&lp, &[seg(f)]),
                    &format!("{shown}.limit_range.{f}"),
                    v,
                    true,
                );
            }
        }
        for (req, lim) in [
            ("default_request_cpu", "default_cpu"),
            ("default_request_memory", "default_memory"),
        ] {
            let get = |f: &str| match f {
                "default_cpu" => lr.default_cpu.as_deref(),
                "default_memory" => lr.default_memory.as_deref(),
                "default_request_cpu" => lr.default_request_cpu.as_deref(),
                _ => lr.default_request_memory.as_deref(),
            };
            if let (Some(q), Some(l)) = (get(req), get(lim))
                && let (Ok(qv), Ok(lv)) = (Quantity::parse(q), Quantity::parse(l))
                && qv > lv
            {
                r.related(
                    at(&lp, &[seg(req)]),
                    vec![at(&lp, &[seg(lim)])],
                    "Request above limit",
                    format!("{shown}.limit_range.{req} {q:?} is more than {lim} {l:?}; a default request must not exceed the default limit"),
                );
            }
        }
    }
    if let Some(q) = &ns.quota {
        let qp = at(&base, &[seg("quota")]);
        if q.cpu.is_none() && q.memory.is_none() && q.pods.is_none() {
            r.add(qp.clone(), "Empty quota", format!("{shown}.quota needs at least one of cpu, memory, pods (e.g. {{ cpu = \"8\", memory = \"16Gi\" }}); remove it to have no ResourceQuota"));
        }
        if let Some(v) = &q.cpu {
            check_quantity(
                r,
                at(&qp, &[seg("cpu")]),
                &format!("{shown}.quota.cpu"),
                v,
                false,
            );
        }
        if let Some(v) = &q.memory {
            check_quantity(
                r,
                at(&qp, &[seg("memory")]),
                &format!("{shown}.quota.memory"),
                v,
                false,
            );
        }
        if let Some(p) = q.pods
            && !(0..=1_000_000).contains(&p)
        {
            r.add(
                at(&qp, &[seg("pods")]),
                "Invalid pod count",
                format!("{shown}.quota.pods {p} must be a whole number from 0 to 1000000"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// The kinds of object jke_cluster manages, in apply order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    LimitRange,
    ResourceQuota,
    ConfigMap,
    ClusterIssuer,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Namespace,
        Kind::LimitRange,
        Kind::ResourceQuota,
        Kind::ConfigMap,
        Kind::ClusterIssuer,
    ];
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::LimitRange => "LimitRange",
            Kind::ResourceQuota => "ResourceQuota",
            Kind::ConfigMap => "ConfigMap",
            Kind::ClusterIssuer => "ClusterIssuer",
        }
    }
    pub fn api_version(&self) -> &'static str {
        match self {
            Kind::ClusterIssuer => "cert-manager.io/v1",
            _ => "v1",
        }
    }
    pub fn plural(&self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::LimitRange => "limitranges",
            Kind::ResourceQuota => "resourcequotas",
            Kind::ConfigMap => "configmaps",
            Kind::ClusterIssuer => "clusterissuers",
        }
    }
    pub fn namespaced(&self) -> bool {
        matches!(
            self,
            Kind::LimitRange | Kind::ResourceQuota | Kind::ConfigMap
        )
    }
    /// Whether the type comes from a CustomResourceDefinition (may not be installed yet).
    pub fn is_custom(&self) -> bool {
        *self == Kind::ClusterIssuer
    }
}

/// Name of the CRD that serves ClusterIssuers.
pub const ISSUER_CRD: &str = "clusterissuers.cert-manager.io";

/// One rendered object: identity plus the full manifest (with apiVersion and kind).
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: String,
    pub object: Json,
}

impl Object {
    /// `Kind/name`, or `Kind/namespace/name` for namespaced objects; as listed in `objects`
    /// and used in `drift` keys.
    pub fn key(&self) -> String {
        object_key(self.kind, self.namespace.as_deref(), &self.name)
    }
}

pub fn object_key(kind: Kind, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{}/{ns}/{name}", kind.name()),
        None => format!("{}/{name}", kind.name()),
    }
}

/// Labels on every object jke_cluster manages (prune finds them by these).
pub fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        (LABEL_COMPONENT.to_string(), COMPONENT.to_string()),
    ])
}

/// Label selector matching every object jke_cluster manages.
pub fn label_selector() -> String {
    format!("{LABEL_MANAGED_BY}={MANAGED_BY},{LABEL_COMPONENT}={COMPONENT}")
}

fn object(
    kind: Kind,
    namespace: Option<&str>,
    name: &str,
    labels: &StringMap,
    rest: Json,
) -> Object {
    let mut metadata = json!({ "name": name, "labels": labels });
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    let mut obj = json!({
        "apiVersion": kind.api_version(),
        "kind": kind.name(),
        "metadata": metadata,
    });
    if let (Some(o), Json::Object(extra)) = (obj.as_object_mut(), rest) {
        o.extend(extra);
    }
    Object {
        kind,
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
        object: obj,
    }
}

fn non_empty(pairs: &[(&str, Option<&str>)]) -> serde_json::Map<String, Json> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.map(|v| ((*k).to_string(), json!(v))))
        .collect()
}

/// The LimitRange of a namespace, if it asks for one.
fn limit_range(ns: &str, lr: &LimitRange) -> Object {
    let default = non_empty(&[
        ("cpu", lr.default_cpu.as_deref()),
        ("memory", lr.default_memory.as_deref()),
    ]);
    let request = non_empty(&[
        ("cpu", lr.default_request_cpu.as_deref()),
        ("memory", lr.default_request_memory.as_deref()),
    ]);
    let mut item = json!({ "type": "Container" });
    if !default.is_empty() {
        item["default"] = Json::Object(default);
    }
    if !request.is_empty() {
        item["defaultRequest"] = Json::Object(request);
    }
    object(
        Kind::LimitRange,
        Some(ns),
        LIMIT_RANGE_NAME,
        &labels(),
        json!({ "spec": { "limits": [item] } }),
    )
}

/// The ResourceQuota of a namespace: `cpu` and `memory` cap both the requests and the
/// limits of all pods together (they are equal for JKE apps), `pods` their number.
fn quota(ns: &str, q: &Quota) -> Object {
    let pods = q.pods.map(|p| p.to_string());
    let hard = non_empty(&[
        ("limits.cpu", q.cpu.as_deref()),
        ("limits.memory", q.memory.as_deref()),
        ("pods", pods.as_deref()),
        ("requests.cpu", q.cpu.as_deref()),
        ("requests.memory", q.memory.as_deref()),
    ]);
    object(
        Kind::ResourceQuota,
        Some(ns),
        QUOTA_NAME,
        &labels(),
        json!({ "spec": { "hard": hard } }),
    )
}

fn issuer(i: &Issuer) -> Object {
    let solver = match (&i.http01_ingress_class, &i.dns01_route53) {
        (_, Some(r)) => {
            let mut route53 = json!({ "region": r.region, "hostedZoneID": r.hosted_zone_id });
            if let Some(role) = &r.role_arn {
                route53["role"] = json!(role);
            }
            json!({ "dns01": { "route53": route53 } })
        }
        (Some(class), None) => json!({ "http01": { "ingress": { "ingressClassName": class } } }),
        (None, None) => json!({}),
    };
    object(
        Kind::ClusterIssuer,
        None,
        &i.name,
        &labels(),
        json!({
            "spec": {
                "acme": {
                    "email": i.email,
                    "server": i.server,
                    "privateKeySecretRef": { "name": account_key_secret(&i.name) },
                    "solvers": [solver],
                }
            }
        }),
    )
}

/// The environment marker with the app defaults.
fn marker(spec: &Spec) -> Object {
    let default_issuer = spec.default_issuer();
    let data = non_empty(&[
        (MARKER_BASE_DOMAIN, spec.base_domain.as_deref()),
        (MARKER_DEFAULT_ISSUER, default_issuer.as_deref()),
        (MARKER_INGRESS_CLASS, spec.ingress_class.as_deref()),
        (MARKER_KEY, Some(spec.environment.as_str())),
    ]);
    object(
        Kind::ConfigMap,
        Some(MARKER_NAMESPACE),
        MARKER_NAME,
        &labels(),
        json!({ "data": data }),
    )
}

/// Every object of `spec`, in apply order: namespaces, their LimitRanges and
/// ResourceQuotas, the marker ConfigMap, then the ClusterIssuers (whose CRD may still be on
/// its way).
pub fn render(spec: &Spec) -> Vec<Object> {
    let mut out = Vec::new();
    let namespaces = spec.namespaces.clone().unwrap_or_default();
    for (name, ns) in &namespaces {
        let mut l = ns.labels.clone().unwrap_or_default();
        l.extend(labels());
        out.push(object(Kind::Namespace, None, name, &l, json!({})));
    }
    for (name, ns) in &namespaces {
        if let Some(lr) = &ns.limit_range {
            out.push(limit_range(name, lr));
        }
    }
    for (name, ns) in &namespaces {
        if let Some(q) = &ns.quota {
            out.push(quota(name, q));
        }
    }
    out.push(marker(spec));
    for i in spec.issuer_list() {
        out.push(issuer(i));
    }
    out
}

/// The keys of every object (the `objects` attribute).
pub fn object_keys(spec: &Spec) -> Vec<String> {
    render(spec).iter().map(Object::key).collect()
}

// ---------------------------------------------------------------------------------------------
// Drift

/// Differences between the rendered objects and the live ones (`live[i]` is what the cluster
/// has for `expected[i]`, `None` when it is gone): `Kind/[namespace/]name: field` -> live
/// value, or `Kind/[namespace/]name` -> `deleted`. Only fields the provider sets are looked at.
/// `None` when nothing at all is left (the resource is gone).
pub fn drift(expected: &[Object], live: &[Option<Json>]) -> Option<BTreeMap<String, String>> {
    if live.iter().all(Option::is_none) {
        return None;
    }
    let mut out = BTreeMap::new();
    for (m, l) in expected.iter().zip(live) {
        match l {
            None => {
                out.insert(m.key(), "deleted".to_string());
            }
            Some(l) => {
                let diffs = live_diff::differences(&m.object, l, is_quantity_path);
                for (path, value) in diffs {
                    out.insert(format!("{}: {path}", m.key()), value);
                }
            }
        }
    }
    Some(out)
}

/// Quantities are compared by value ("1" and "1000m" are equal; the API server rewrites
/// some spellings).
fn is_quantity_path(path: &str) -> bool {
    path.starts_with("spec.hard.") || path.starts_with("spec.limits[")
}

// ---------------------------------------------------------------------------------------------
// Import

/// One managed namespace as found in the cluster.
#[derive(Clone, Debug, Default)]
pub struct LiveNamespace {
    pub namespace: Json,
    pub limit_range: Option<Json>,
    pub quota: Option<Json>,
}

fn str_at(j: &Json, ptr: &str) -> Option<String> {
    j.pointer(ptr).and_then(Json::as_str).map(str::to_string)
}

/// Rebuild a spec from the live marker ConfigMap, the managed ClusterIssuers and the managed
/// namespaces (found by [`label_selector`]). Settings jke_cluster does not render come back
/// as their defaults.
pub fn import(
    marker: &Json,
    issuers: &[Json],
    namespaces: &BTreeMap<String, LiveNamespace>,
) -> Spec {
    let data = |k: &str| str_at(marker, &format!("/data/{k}"));
    let mut issuer_list: Vec<Issuer> = issuers
        .iter()
        .filter_map(|o| {
            let name = str_at(o, "/metadata/name")?;
            let acme = o.pointer("/spec/acme")?;
            let solver = acme.pointer("/solvers/0");
            let route53 = solver.and_then(|s| s.pointer("/dns01/route53"));
            Some(Issuer {
                name,
                email: str_at(acme, "/email").unwrap_or_default(),
                server: str_at(acme, "/server").unwrap_or_else(|| defaults::ACME_SERVER.into()),
                http01_ingress_class: solver
                    .and_then(|s| str_at(s, "/http01/ingress/ingressClassName")),
                dns01_route53: route53.map(|r| Route53 {
                    region: str_at(r, "/region").unwrap_or_default(),
                    hosted_zone_id: str_at(r, "/hostedZoneID").unwrap_or_default(),
                    role_arn: str_at(r, "/role"),
                }),
            })
        })
        .collect();
    // The default issuer goes first; the others in name order.
    issuer_list.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(d) = data(MARKER_DEFAULT_ISSUER)
        && let Some(pos) = issuer_list.iter().position(|i| i.name == d)
    {
        let first = issuer_list.remove(pos);
        issuer_list.insert(0, first);
    }
    let ns_map: BTreeMap<String, NamespaceSpec> = namespaces
        .iter()
        .map(|(name, live)| {
            let own = labels();
            let user: StringMap = live
                .namespace
                .pointer("/metadata/labels")
                .and_then(Json::as_object)
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| {
                            !own.contains_key(*k) && *k != "kubernetes.io/metadata.name"
                        })
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            let limit_range = live.limit_range.as_ref().map(|lr| {
                let item = lr.pointer("/spec/limits/0").cloned().unwrap_or_default();
                LimitRange {
                    default_cpu: str_at(&item, "/default/cpu"),
                    default_memory: str_at(&item, "/default/memory"),
                    default_request_cpu: str_at(&item, "/defaultRequest/cpu"),
                    default_request_memory: str_at(&item, "/defaultRequest/memory"),
                }
            });
            let quota = live.quota.as_ref().map(|q| Quota {
                cpu: str_at(q, "/spec/hard/requests.cpu"),
                memory: str_at(q, "/spec/hard/requests.memory"),
                pods: str_at(q, "/spec/hard/pods").and_then(|p| p.parse().ok()),
            });
            (
                name.clone(),
                NamespaceSpec {
                    labels: Some(user).filter(|u| !u.is_empty()),
                    limit_range,
                    quota,
                },
            )
        })
        .collect();
    Spec {
        environment: data(MARKER_KEY).unwrap_or_default(),
        ingress_class: data(MARKER_INGRESS_CLASS),
        base_domain: data(MARKER_BASE_DOMAIN),
        issuers: Some(issuer_list).filter(|l| !l.is_empty()),
        namespaces: Some(ns_map).filter(|m| !m.is_empty()),
        crd_wait_timeout: defaults::CRD_WAIT_TIMEOUT.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(j: Json) -> Input {
        serde_json::from_value(j).unwrap_or_else(|e| panic!("bad test input: {e}"))
    }

    fn full() -> Spec {
        Spec::resolve(&input(json!({
            "environment": "prod",
            "ingress_class": "nginx",
            "base_domain": "apps.example.com",
            "issuers": [
                { "name": "letsencrypt", "email": "platform@example.com", "http01_ingress_class": "nginx" },
                { "name": "letsencrypt-dns", "email": "platform@example.com",
                  "server": "https://acme-staging-v02.api.letsencrypt.org/directory",
                  "dns01_route53": { "region": "eu-west-1", "hosted_zone_id": "Z0123456789ABC",
                                     "role_arn": "arn:aws:iam::111122223333:role/dns" } }
            ],
            "namespaces": {
                "shop": {
                    "labels": { "team": "shop" },
                    "limit_range": { "default_cpu": "500m", "default_memory": "512Mi" },
                    "quota": { "cpu": "8", "memory": "16Gi", "pods": 50 }
                },
                "tools": null
            }
        })))
    }

    fn problems(spec: &Spec) -> Vec<(String, String)> {
        validate(spec)
            .into_iter()
            .map(|p| {
                let path = p
                    .path
                    .iter()
                    .map(|s| match s {
                        Seg::Attr(a) => format!(".{a}"),
                        Seg::Key(k) => format!("[{k:?}]"),
                        Seg::Index(i) => format!("[{i}]"),
                    })
                    .collect::<String>();
                (path, p.detail)
            })
            .collect()
    }

    #[test]
    fn defaults_fill_server_and_wait_and_the_first_issuer_is_the_default() {
        let s = full();
        assert!(problems(&s).is_empty(), "{:?}", problems(&s));
        let issuers = s.issuers.clone().unwrap_or_default();
        assert_eq!(issuers[0].server, defaults::ACME_SERVER);
        assert_eq!(s.crd_wait_timeout, "5m");
        assert_eq!(s.crd_wait(), Duration::from_secs(300));
        assert_eq!(s.default_issuer().as_deref(), Some("letsencrypt"));
        assert_eq!(s.id(), "prod");
        let none = Spec::resolve(&input(json!({ "environment": "dev" })));
        assert_eq!(none.default_issuer(), None);
        assert_eq!(none.issuers, None);
    }

    #[test]
    fn renders_every_object_in_apply_order_with_the_management_labels() {
        let objs = render(&full());
        let keys: Vec<String> = objs.iter().map(Object::key).collect();
        assert_eq!(
            keys,
            [
                "Namespace/shop",
                "Namespace/tools",
                "LimitRange/shop/jke-limits",
                "ResourceQuota/shop/jke-quota",
                "ConfigMap/kube-system/jke-environment",
                "ClusterIssuer/letsencrypt",
                "ClusterIssuer/letsencrypt-dns",
            ]
        );
        for o in &objs {
            assert_eq!(
                o.object["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                "jke"
            );
            assert_eq!(
                o.object["metadata"]["labels"]["jke.dev/component"],
                "cluster"
            );
            assert_eq!(o.object["kind"], o.kind.name());
            assert_eq!(o.object["apiVersion"], o.kind.api_version());
            assert_eq!(
                o.object["metadata"]["namespace"].as_str(),
                o.namespace.as_deref()
            );
        }
        assert_eq!(objs[0].object["metadata"]["labels"]["team"], "shop");
        assert_eq!(
            objs[2].object["spec"],
            json!({ "limits": [{ "type": "Container", "default": { "cpu": "500m", "memory": "512Mi" } }] })
        );
        assert_eq!(
            objs[3].object["spec"]["hard"],
            json!({ "requests.cpu": "8", "limits.cpu": "8", "requests.memory": "16Gi", "limits.memory": "16Gi", "pods": "50" })
        );
        assert_eq!(
            objs[4].object["data"],
            json!({ "name": "prod", "ingress_class": "nginx", "base_domain": "apps.example.com", "default_issuer": "letsencrypt" })
        );
        assert_eq!(
            objs[5].object["spec"]["acme"],
            json!({
                "email": "platform@example.com",
                "server": defaults::ACME_SERVER,
                "privateKeySecretRef": { "name": "letsencrypt-acme-account-key" },
                "solvers": [{ "http01": { "ingress": { "ingressClassName": "nginx" } } }]
            })
        );
        assert_eq!(
            objs[6].object["spec"]["acme"]["solvers"][0],
            json!({ "dns01": { "route53": { "region": "eu-west-1", "hostedZoneID": "Z0123456789ABC", "role": "arn:aws:iam::111122223333:role/dns" } } })
        );
        assert_eq!(render(&full()), objs, "rendering is deterministic");
    }

    #[test]
    fn only_the_marker_when_nothing_else_is_asked() {
        let objs = render(&Spec::resolve(&input(json!({ "environment": "dev" }))));
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].object["data"], json!({ "name": "dev" }));
    }

    #[test]
    fn bad_values_are_reported_at_their_paths_with_accepted_forms() {
        let s = Spec::resolve(&input(json!({
            "environment": "Prod",
            "ingress_class": "Nginx!",
            "base_domain": "https://example.com",
            "crd_wait_timeout": "2h",
            "issuers": [
                { "name": "le", "email": "not-an-email", "server": "http://acme", "http01_ingress_class": "nginx",
                  "dns01_route53": { "region": "europe", "hosted_zone_id": "/hostedzone/Z1", "role_arn": "arn:aws:iam::1:user/x" } },
                { "name": "le", "email": "a@example.com" }
            ],
            "namespaces": {
                "kube-system": {},
                "Shop": {},
                "ok": {
                    "labels": { "app.kubernetes.io/managed-by": "me", "bad key!": "x", "tier": "-bad-" },
                    "limit_range": { "default_cpu": "1", "default_request_cpu": "2", "default_memory": "2GB" },
                    "quota": { "cpu": "lots", "pods": -1 }
                },
                "empty": { "limit_range": {}, "quota": {} }
            }
        })));
        let got = problems(&s);
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        for want in [
            ".environment",
            ".ingress_class",
            ".base_domain",
            ".crd_wait_timeout",
            ".issuers[0].email",
            ".issuers[0].server",
            ".issuers[0].dns01_route53",
            ".issuers[0].dns01_route53.region",
            ".issuers[0].dns01_route53.hosted_zone_id",
            ".issuers[0].dns01_route53.role_arn",
            ".issuers[1].name",
            ".issuers[1]",
            ".namespaces[\"kube-system\"]",
            ".namespaces[\"Shop\"]",
            ".namespaces[\"ok\"].labels[\"app.kubernetes.io/managed-by\"]",
            ".namespaces[\"ok\"].labels[\"bad key!\"]",
            ".namespaces[\"ok\"].labels[\"tier\"]",
            ".namespaces[\"ok\"].limit_range.default_memory",
            ".namespaces[\"ok\"].limit_range.default_request_cpu",
            ".namespaces[\"ok\"].quota.cpu",
            ".namespaces[\"ok\"].quota.pods",
            ".namespaces[\"empty\"].limit_range",
            ".namespaces[\"empty\"].quota",
        ] {
            assert!(paths.contains(&want), "no problem at {want}; got {got:#?}");
        }
        assert_eq!(got.len(), 23, "{got:#?}");
        let detail = |p: &str| {
            got.iter()
                .find(|(q, _)| q == p)
                .map(|(_, d)| d.clone())
                .unwrap_or_default()
        };
        assert!(
            detail(".environment").contains("\"Prod\"")
                && detail(".environment").contains("\"prod\"")
        );
        assert!(
            detail(".namespaces[\"ok\"].limit_range.default_memory").contains("\"2GB\"")
                && detail(".namespaces[\"ok\"].limit_range.default_memory").contains("512Mi")
        );
        assert!(detail(".issuers[0].email").contains("platform@example.com"));
        assert!(detail(".issuers[1].name").contains("earlier issuer"));
        assert!(detail(".issuers[1]").contains("exactly one solver"));
    }

    #[test]
    fn small_validators() {
        assert!(is_email("a.b+c@mail.example.com"));
        for bad in [
            "",
            "a",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@example.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_aws_region("eu-west-1") && is_aws_region("us-gov-west-1"));
        assert!(!is_aws_region("eu-west") && !is_aws_region("EU-west-1"));
        assert!(is_hosted_zone_id("Z0123456789ABCDEFGHIJ") && !is_hosted_zone_id("z123"));
        assert!(is_role_arn("arn:aws:iam::111122223333:role/path/dns"));
        assert!(is_role_arn("arn:aws-cn:iam::111122223333:role/dns"));
        assert!(!is_role_arn("arn:aws:iam::111122223333:user/dns"));
        assert!(!is_role_arn("arn:aws:iam::1111:role/dns"));
    }

    #[test]
    fn drift_names_changed_fields_and_deleted_objects_and_ignores_server_fields() {
        let objs = render(&full());
        let mut objects: Vec<Json> = objs.iter().map(|o| o.object.clone()).collect();
        // Fields the server adds are not drift; equal quantities in another spelling neither.
        objects[0]["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!("shop");
        objects[0]["status"] = json!({ "phase": "Active" });
        objects[3]["spec"]["hard"]["requests.cpu"] = json!("8000m");
        let live: Vec<Option<Json>> = objects.iter().cloned().map(Some).collect();
        assert_eq!(drift(&objs, &live), Some(BTreeMap::new()));
        objects[3]["spec"]["hard"]["limits.memory"] = json!("1Gi");
        let mut live: Vec<Option<Json>> = objects.into_iter().map(Some).collect();
        live[5] = None;
        let d = drift(&objs, &live).unwrap_or_default();
        assert_eq!(
            d,
            BTreeMap::from([
                (
                    "ClusterIssuer/letsencrypt".to_string(),
                    "deleted".to_string()
                ),
                (
                    "ResourceQuota/shop/jke-quota: spec.hard.limits.memory".to_string(),
                    "1Gi".to_string()
                ),
            ])
        );
        let gone: Vec<Option<Json>> = objs.iter().map(|_| None).collect();
        assert_eq!(drift(&objs, &gone), None);
    }

    #[test]
    fn import_rebuilds_what_render_wrote() {
        let spec = full();
        let objs = render(&spec);
        let find = |k: &str| objs.iter().find(|o| o.key() == k).map(|o| o.object.clone());
        let marker = find("ConfigMap/kube-system/jke-environment").unwrap_or_default();
        let issuers: Vec<Json> = objs
            .iter()
            .filter(|o| o.kind == Kind::ClusterIssuer)
            .rev()
            .map(|o| o.object.clone())
            .collect();
        let namespaces = BTreeMap::from([
            (
                "shop".to_string(),
                LiveNamespace {
                    namespace: find("Namespace/shop").unwrap_or_default(),
                    limit_range: find("LimitRange/shop/jke-limits"),
                    quota: find("ResourceQuota/shop/jke-quota"),
                },
            ),
            (
                "tools".to_string(),
                LiveNamespace {
                    namespace: find("Namespace/tools").unwrap_or_default(),
                    ..LiveNamespace::default()
                },
            ),
        ]);
        assert_eq!(import(&marker, &issuers, &namespaces), spec);
    }
}
