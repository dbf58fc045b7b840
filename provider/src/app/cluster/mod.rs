//! `jke_cluster`'s domain: the platform model ([`spec`]), its validation ([`validate`]),
//! its objects ([`bundle`]) and the comparison of live objects with them ([`observe`]).
//! Pure: no I/O, no Terraform, no cluster.

pub mod bundle;
pub mod observe;
pub mod spec;
pub mod validate;

#[cfg(test)]
pub(crate) mod fixtures {
    use super::spec::{Input, Spec};
    use super::validate::validate;
    use crate::app::report::Seg;
    use serde_json::{Value as Json, json};

    pub fn input(j: Json) -> Input {
        serde_json::from_value(j).unwrap_or_else(|e| panic!("bad test input: {e}"))
    }

    pub fn full() -> Spec {
        Spec::resolve(
            &input(json!({
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
            })),
            "restricted",
        )
    }

    pub fn problems(spec: &Spec) -> Vec<(String, String)> {
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
}
