//! Rendered objects (the domain's `Manifest`) as cluster references: the one place the two
//! vocabularies meet, so `app` never names a cluster type and `kube` never names a JKE kind.

use crate::app::object::{Kind, Manifest};
use crate::kube::{ObjectRef, ResourceType};

pub fn resource_type(kind: Kind) -> ResourceType {
    ResourceType::new(
        kind.api_version(),
        kind.name(),
        kind.plural(),
        kind.namespaced(),
    )
}

pub fn object_ref(m: &Manifest) -> ObjectRef {
    ObjectRef {
        ty: resource_type(m.kind),
        namespace: m.namespace.clone().filter(|_| m.kind.namespaced()),
        name: m.name.clone(),
    }
}

pub fn object_refs(manifests: &[Manifest]) -> Vec<ObjectRef> {
    manifests.iter().map(object_ref).collect()
}

pub fn resource_types(kinds: &[Kind]) -> Vec<ResourceType> {
    kinds.iter().copied().map(resource_type).collect()
}

/// The JKE kind of a cluster reference, for references a list returned.
pub fn kind_of(r: &ObjectRef, kinds: &[Kind]) -> Option<Kind> {
    kinds.iter().copied().find(|k| k.name() == r.ty.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    #[test]
    fn a_manifest_becomes_the_reference_the_api_path_needs() {
        let d = Manifest::of(Kind::Deployment, "web", Some("shop"), &Json::Null);
        let r = object_ref(&d);
        assert_eq!(r.describe(), "Deployment/shop/web");
        assert_eq!(r.ty.api_version, "apps/v1");
        assert_eq!(r.ty.plural, "deployments");
        assert_eq!(
            kind_of(&r, &[Kind::Service, Kind::Deployment]),
            Some(Kind::Deployment)
        );
        // Cluster-wide kinds never carry a namespace into the path.
        let ci = Manifest::of(Kind::ClusterIssuer, "le", Some("ignored"), &Json::Null);
        assert_eq!(object_ref(&ci).namespace, None);
        assert_eq!(
            object_ref(&ci).ty.resource_name(),
            "clusterissuers.cert-manager.io"
        );
    }
}
