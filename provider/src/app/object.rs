//! The rendered-object type every resource produces: a kind, where the object lives and its
//! full manifest (with apiVersion and kind). The resource layer turns these into cluster
//! references; the domain never talks to a cluster.

use serde::Serialize;
use serde_json::Value as Json;

/// Label every object JKE writes carries, app or platform.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "jke";

/// Every kind of object a JKE resource renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    ServiceAccount,
    Secret,
    Deployment,
    Service,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
    Ingress,
    NetworkPolicy,
    LimitRange,
    ResourceQuota,
    ConfigMap,
    ClusterIssuer,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::Secret => "Secret",
            Kind::Deployment => "Deployment",
            Kind::Service => "Service",
            Kind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::Ingress => "Ingress",
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::LimitRange => "LimitRange",
            Kind::ResourceQuota => "ResourceQuota",
            Kind::ConfigMap => "ConfigMap",
            Kind::ClusterIssuer => "ClusterIssuer",
        }
    }

    pub fn api_version(&self) -> &'static str {
        match self {
            Kind::Deployment => "apps/v1",
            Kind::HorizontalPodAutoscaler => "autoscaling/v2",
            Kind::PodDisruptionBudget => "policy/v1",
            Kind::Ingress | Kind::NetworkPolicy => "networking.k8s.io/v1",
            Kind::ClusterIssuer => "cert-manager.io/v1",
            Kind::Namespace
            | Kind::ServiceAccount
            | Kind::Secret
            | Kind::Service
            | Kind::LimitRange
            | Kind::ResourceQuota
            | Kind::ConfigMap => "v1",
        }
    }

    /// The resource name in API paths (no discovery round trip needed).
    pub fn plural(&self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::ServiceAccount => "serviceaccounts",
            Kind::Secret => "secrets",
            Kind::Deployment => "deployments",
            Kind::Service => "services",
            Kind::HorizontalPodAutoscaler => "horizontalpodautoscalers",
            Kind::PodDisruptionBudget => "poddisruptionbudgets",
            Kind::Ingress => "ingresses",
            Kind::NetworkPolicy => "networkpolicies",
            Kind::LimitRange => "limitranges",
            Kind::ResourceQuota => "resourcequotas",
            Kind::ConfigMap => "configmaps",
            Kind::ClusterIssuer => "clusterissuers",
        }
    }

    pub fn namespaced(&self) -> bool {
        !matches!(self, Kind::Namespace | Kind::ClusterIssuer)
    }

    /// Whether the type comes from a CustomResourceDefinition (may not be installed yet).
    pub fn is_custom(&self) -> bool {
        *self == Kind::ClusterIssuer
    }
}

/// One rendered object: identity plus the full manifest (with apiVersion and kind).
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub kind: Kind,
    pub name: String,
    pub namespace: Option<String>,
    pub object: Json,
}

impl Manifest {
    /// From a typed k8s-openapi object (or any serializable manifest).
    pub fn of<T: Serialize>(kind: Kind, name: &str, namespace: Option<&str>, obj: &T) -> Manifest {
        Manifest {
            kind,
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
            // Serialising k8s-openapi types or JSON cannot fail (no non-string map keys).
            object: serde_json::to_value(obj).unwrap_or(Json::Null),
        }
    }

    /// "Kind/name": how an app lists its objects (they all share the app's namespace).
    pub fn key(&self) -> String {
        format!("{}/{}", self.kind.name(), self.name)
    }

    /// "Kind/namespace/name" (or "Kind/name" for cluster-wide objects): how a resource whose
    /// objects span namespaces lists them.
    pub fn qualified_key(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind.name(), self.name),
            None => self.key(),
        }
    }
}

/// The whole bundle as one multi-document YAML stream (golden files, `render` output).
pub fn to_yaml(manifests: &[Manifest]) -> String {
    manifests
        .iter()
        .map(|m| serde_saphyr::to_string(&m.object).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_kind_and_where_the_object_lives() {
        let lr = Manifest::of(Kind::LimitRange, "jke-limits", Some("shop"), &Json::Null);
        assert_eq!(lr.key(), "LimitRange/jke-limits");
        assert_eq!(lr.qualified_key(), "LimitRange/shop/jke-limits");
        let ci = Manifest::of(Kind::ClusterIssuer, "le", None, &Json::Null);
        assert_eq!(ci.qualified_key(), "ClusterIssuer/le");
        assert!(!Kind::ClusterIssuer.namespaced() && Kind::ClusterIssuer.is_custom());
        assert!(Kind::ConfigMap.namespaced() && !Kind::Namespace.namespaced());
    }
}
