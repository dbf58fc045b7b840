//! The `jke_cluster` schema: the attribute contract, with a description for each.

use crate::app::cluster::bundle::{
    DEFAULT_DENY_NAME, LABEL_COMPONENT, LIMIT_RANGE_NAME, MARKER_NAME, MARKER_NAMESPACE, QUOTA_NAME,
};
use crate::app::cluster::spec::defaults;
use crate::plugin::{Attribute, Block, Nesting, Schema, Type};

pub const SCHEMA_VERSION: i64 = 0;

fn string(name: &str, description: &str) -> Attribute {
    Attribute::typed(name, Type::String, description)
}

pub fn resource_schema() -> Schema {
    let issuer = vec![
        string("name", "Name of the ClusterIssuer, e.g. `letsencrypt`. Apps name it in `ingress.issuer`.").required(),
        string("email", "Email address for the ACME account; the CA sends certificate expiry notices there.").required(),
        string("server", &format!("ACME directory URL. Default: Let's Encrypt production (`{}`); use `https://acme-staging-v02.api.letsencrypt.org/directory` to try things out.", defaults::ACME_SERVER)).optional().computed(),
        string("http01_ingress_class", "Solve HTTP-01 challenges through Ingresses of this IngressClass (e.g. `nginx`). Exactly one of `http01_ingress_class` and `dns01_route53` is required.").optional(),
        Attribute::nested(
            "dns01_route53",
            Nesting::Single,
            vec![
                string("region", "AWS region of the Route53 API calls, e.g. `eu-west-1`.").required(),
                string("hosted_zone_id", "Route53 hosted zone ID the TXT records go into, e.g. `Z0123456789ABCDEFGHIJ`.").required(),
                string("role_arn", "IAM role cert-manager assumes to change the records. Default: cert-manager's own credentials (the pod identity role of the eks-addons module's cert_manager add-on).").optional(),
            ],
            "Solve DNS-01 challenges with TXT records in Route53 (also works for wildcard certificates and hosts not reachable from the internet).",
        )
        .optional(),
    ];
    let namespace = vec![
        Attribute::typed("labels", Type::map(Type::String), &format!("Labels on the Namespace (besides `app.kubernetes.io/managed-by`, `{LABEL_COMPONENT}` and the Pod Security labels, which JKE sets).")).optional(),
        string("pod_security", "Pod Security level the API server enforces on the namespace's pods: `baseline`, `restricted` or `privileged` (only for add-ons that need the host). Written as the `pod-security.kubernetes.io/enforce` label; `warn` and `audit` are always `restricted`. Default: the provider's `defaults.security.profile`, else `baseline`.").optional().computed(),
        Attribute::typed("default_deny_ingress", Type::Bool, &format!("A NetworkPolicy `{DEFAULT_DENY_NAME}` that denies ingress to every pod of the namespace; each `jke_application`'s own policy opens its ports. Default true.")).optional().computed(),
        Attribute::nested(
            "limit_range",
            Nesting::Single,
            vec![
                string("default_cpu", "CPU limit of containers that set none, e.g. `500m`.").optional(),
                string("default_memory", "Memory limit of containers that set none, e.g. `512Mi`.").optional(),
                string("default_request_cpu", "CPU request of containers that set none. Default (by Kubernetes): `default_cpu`.").optional(),
                string("default_request_memory", "Memory request of containers that set none. Default (by Kubernetes): `default_memory`.").optional(),
            ],
            &format!("Container defaults: a LimitRange `{LIMIT_RANGE_NAME}` in the namespace. `jke_application` always sets its own requests and limits; this covers everything else."),
        )
        .optional(),
        Attribute::nested(
            "quota",
            Nesting::Single,
            vec![
                string("cpu", "Total CPU of all pods in the namespace, e.g. `8`: caps the sum of requests and the sum of limits (`requests.cpu`, `limits.cpu`).").optional(),
                string("memory", "Total memory of all pods, e.g. `16Gi` (`requests.memory`, `limits.memory`).").optional(),
                Attribute::typed("pods", Type::Number, "Most pods the namespace may have.").optional(),
            ],
            &format!("Totals for the namespace: a ResourceQuota `{QUOTA_NAME}`. With `cpu` or `memory` set, pods without requests and limits are refused unless `limit_range` gives them defaults."),
        )
        .optional(),
    ];
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            description: format!("Cluster-level platform objects, applied once per cluster by the platform team: the environment marker (ConfigMap `{MARKER_NAMESPACE}/{MARKER_NAME}`) that the provider's environment guard reads, cert-manager ClusterIssuers for app certificates, and app namespaces with a LimitRange and a ResourceQuota. Use one `jke_cluster` per cluster."),
            deprecated: false,
            attributes: vec![
                string("id", "The environment; also the import ID.").computed(),
                string("environment", &format!("Environment of the cluster, e.g. `prod`: a DNS label, written to ConfigMap `{MARKER_NAMESPACE}/{MARKER_NAME}` (key `name`). A cluster without that marker gets it from this resource, even when the provider's `environment` is set (it must be the same); a cluster marked with another environment is refused before anything is written. To re-purpose a cluster, delete the ConfigMap by hand. The marker stays when this resource is destroyed, so the cluster keeps saying what it is.")).required(),
                string("ingress_class", "Default IngressClass for apps (e.g. `nginx` or `alb`), recorded in the marker ConfigMap (key `ingress_class`) for people and tools; set `defaults.ingress.class_name` in the provider block to the same value for `jke_application`.").optional(),
                string("base_domain", "Base DNS domain of the apps on this cluster, e.g. `apps.example.com`, recorded in the marker ConfigMap (key `base_domain`).").optional(),
                Attribute::nested(
                    "issuers",
                    Nesting::List,
                    issuer,
                    "cert-manager ClusterIssuers (ACME) that sign the certificates of apps with `ingress = { tls = true }`. Needs cert-manager's CRDs; they may be installed in the same apply (see `crd_wait_timeout`), and plans never need them.",
                )
                .optional(),
                string("default_issuer", "Name of the first issuer: the one apps should use. The provider's built-in default for `jke_application` `ingress.issuer` is `letsencrypt`, so either name the first issuer `letsencrypt` or set `defaults.ingress.issuer` in the provider block to this name. Null without issuers.").computed(),
                Attribute::nested(
                    "namespaces",
                    Nesting::Map,
                    namespace,
                    "App namespaces, keyed by name, created with their labels, LimitRange and ResourceQuota. A namespace removed from the map (or every one, when this resource is destroyed) is deleted with everything in it, so the provider refuses while it still has Deployments: remove those apps first. System namespaces (`default`, `kube-*`) are not accepted.",
                )
                .optional(),
                string("crd_wait_timeout", &format!("How long apply waits for cert-manager's ClusterIssuer CRD when it is not installed yet (the cert-manager add-on being installed in the same apply), e.g. `90s`, `10m`; `0s` fails at once. Default `{}`.", defaults::CRD_WAIT_TIMEOUT)).optional().computed(),
                Attribute::typed("objects", Type::list(Type::String), "The Kubernetes objects of this resource, as `Kind/name` or `Kind/namespace/name`.").computed(),
                Attribute::typed("drift", Type::map(Type::String), "Changes made outside Terraform, as `Kind/[namespace/]name: field` -> live value (or `deleted`). Empty after every apply; a plan that shows it going back to `{}` restores them.").computed(),
            ],
        },
    }
}
