//! Validation of a resolved `jke_cluster` spec, with the attribute path to blame.

use super::bundle::{
    LABEL_COMPONENT, POD_SECURITY_LABEL_PREFIX, POD_SECURITY_LEVELS, account_key_secret,
};
use super::spec::{NamespaceSpec, Spec, defaults};
use crate::app::formats::{
    DURATION_FORMS, is_aws_region, is_dns_label, is_dns_subdomain, is_email, is_hosted_zone_id,
    is_https_url, is_label_value, is_qualified_name, is_role_arn, parse_duration,
};
use crate::app::object::LABEL_MANAGED_BY;
use crate::app::quantity::{ACCEPTED_FORMS, Quantity};
use crate::app::report::{FieldPath, Invalid, Report, Seg, at};
use std::collections::BTreeSet;
use std::time::Duration;

/// Longest accepted `crd_wait_timeout`.
pub const MAX_CRD_WAIT: Duration = Duration::from_secs(3600);

/// Namespaces the platform never takes over (and could never delete).
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

pub(crate) fn seg(a: &str) -> Seg {
    Seg::Attr(a.to_string())
}

/// All problems with `spec`; empty when it can be applied.
pub fn validate(spec: &Spec) -> Vec<Invalid> {
    let mut r = Report::default();
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
            format!("crd_wait_timeout {:?} must be a duration from \"0s\" (do not wait) to \"1h\": {DURATION_FORMS}", spec.crd_wait_timeout),
        ),
    }
    check_issuers(&mut r, spec);
    for (name, ns) in spec.namespaces.iter().flatten() {
        check_namespace(&mut r, name, ns);
    }
    r.into_problems()
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
    if !POD_SECURITY_LEVELS.contains(&ns.pod_security.as_str()) {
        r.add(
            at(&base, &[seg("pod_security")]),
            "Invalid Pod Security level",
            format!("{shown}.pod_security {:?} is not a Pod Security level; use \"baseline\", \"restricted\" or \"privileged\" (only for system add-ons that need the host)", ns.pod_security),
        );
    }
    for (k, v) in ns.labels.iter().flatten() {
        let p = at(&base, &[seg("labels"), Seg::Key(k.clone())]);
        if k.starts_with(POD_SECURITY_LABEL_PREFIX) {
            r.add(p, "Reserved label", format!("{shown}.labels key {k:?} is a Pod Security admission label, which JKE sets from pod_security; set pod_security instead"));
        } else if k == LABEL_MANAGED_BY || k == LABEL_COMPONENT {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{input, problems};
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_values_are_reported_at_their_paths_with_accepted_forms() {
        let s = Spec::resolve(
            &input(json!({
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
            })),
            "baseline",
        );
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
}
