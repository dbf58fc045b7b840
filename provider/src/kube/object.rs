//! Which object a call is about: its type (enough for the API path, no discovery round trip)
//! and where it lives.

use kube::core::{ApiResource, GroupVersionKind};

/// The type of an object, addressed by apiVersion/kind/plural.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceType {
    pub api_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl ResourceType {
    pub fn new(api_version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        ResourceType {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            namespaced,
        }
    }

    fn group_version(&self) -> (&str, &str) {
        match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version.as_str()),
        }
    }

    pub(crate) fn api_resource(&self) -> ApiResource {
        let (group, version) = self.group_version();
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, &self.kind),
            &self.plural,
        )
    }

    /// `clusterissuers.cert-manager.io`, or `namespaces` for the core group: the name of the
    /// CRD that serves a custom type.
    pub fn resource_name(&self) -> String {
        match self.group_version().0 {
            "" => self.plural.clone(),
            g => format!("{}.{g}", self.plural),
        }
    }
}

/// One object of any type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub ty: ResourceType,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// `Kind/name` or `Kind/namespace/name`, for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.ty.kind, self.name),
            None => format!("{}/{}", self.ty.kind, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_types_are_named_like_their_crd() {
        let ci = ResourceType::new(
            "cert-manager.io/v1",
            "ClusterIssuer",
            "clusterissuers",
            false,
        );
        assert_eq!(ci.resource_name(), "clusterissuers.cert-manager.io");
        let ar = ci.api_resource();
        assert_eq!(
            (ar.group.as_str(), ar.version.as_str()),
            ("cert-manager.io", "v1")
        );
        let ns = ResourceType::new("v1", "Namespace", "namespaces", false);
        assert_eq!(ns.resource_name(), "namespaces");
        assert_eq!(ns.api_resource().api_version, "v1");
        let r = ObjectRef {
            ty: ResourceType::new("v1", "LimitRange", "limitranges", true),
            namespace: Some("shop".into()),
            name: "jke-limits".into(),
        };
        assert_eq!(r.describe(), "LimitRange/shop/jke-limits");
    }
}
