//! The platform model of `jke_cluster`: what the user wrote ([`Input`]) and every setting
//! decided ([`Spec`]). The environment marker, cert-manager ClusterIssuers, and app
//! namespaces with their LimitRange and ResourceQuota.

use crate::app::application::spec::StringMap;
use crate::app::formats::parse_duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

pub mod defaults {
    /// Let's Encrypt's production ACME directory.
    pub const ACME_SERVER: &str = "https://acme-v02.api.letsencrypt.org/directory";
    /// How long apply waits for cert-manager's CRD (installed in the same apply).
    pub const CRD_WAIT_TIMEOUT: &str = "5m";
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Input {
    pub environment: Option<String>,
    pub ingress_class: Option<String>,
    pub base_domain: Option<String>,
    pub issuers: Option<Vec<Option<IssuerInput>>>,
    pub namespaces: Option<BTreeMap<String, Option<NamespaceInput>>>,
    pub crd_wait_timeout: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IssuerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub server: Option<String>,
    pub http01_ingress_class: Option<String>,
    pub dns01_route53: Option<Route53Input>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Route53Input {
    pub region: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub role_arn: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct NamespaceInput {
    pub labels: Option<StringMap>,
    pub limit_range: Option<LimitRange>,
    pub quota: Option<Quota>,
    pub pod_security: Option<String>,
    pub default_deny_ingress: Option<bool>,
}

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
    /// The Pod Security level the namespace enforces (`privileged`, `baseline`, `restricted`).
    pub pod_security: String,
    pub default_deny_ingress: bool,
}

/// Container defaults of a namespace (LimitRange `jke-limits`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitRange {
    pub default_cpu: Option<String>,
    pub default_memory: Option<String>,
    pub default_request_cpu: Option<String>,
    pub default_request_memory: Option<String>,
}

/// Totals a namespace may use (ResourceQuota `jke-quota`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Quota {
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub pods: Option<i64>,
}

impl Spec {
    /// Fill in the defaults; namespaces enforce `profile` (the apps' platform profile, the
    /// provider's `defaults.security.profile`) unless they say otherwise. Never fails:
    /// [`validate`] says what is wrong with the result.
    pub fn resolve(input: &Input, profile: &str) -> Spec {
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
                            pod_security: v.pod_security.unwrap_or_else(|| profile.to_string()),
                            default_deny_ingress: v.default_deny_ingress.unwrap_or(true),
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

    pub fn issuer_list(&self) -> &[Issuer] {
        self.issuers.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{full, input, problems};
    use super::*;
    use serde_json::json;

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
        let none = Spec::resolve(&input(json!({ "environment": "dev" })), "baseline");
        assert_eq!(none.default_issuer(), None);
        assert_eq!(none.issuers, None);
    }
}
