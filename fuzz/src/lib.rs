//! What the fuzz targets share: the value types of every real schema the provider serves, and
//! the provider service Terraform talks to.

use std::sync::{Arc, OnceLock};
use terraform_provider_jke::plugin::server::ProviderService;
use terraform_provider_jke::plugin::{Provider, Type};
use terraform_provider_jke::resources::JkeProvider;

/// Every type Terraform sends values of: the provider block, each resource's state and
/// identity, each list resource's and action's config, and `dynamic` (any type, written as
/// `[type JSON, value]` in msgpack).
pub fn value_types() -> &'static [Type] {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let provider = JkeProvider::new();
        let s = provider.schemas();
        let mut types = vec![s.provider.block.value_type(), Type::Dynamic];
        types.extend(s.resources.iter().map(|(_, r)| r.block.value_type()));
        types.extend(s.identities.iter().map(|(_, i)| i.value_type()));
        types.extend(s.list_resources.iter().map(|(_, l)| l.block.value_type()));
        types.extend(s.actions.iter().map(|(_, a)| a.block.value_type()));
        types
    })
}

/// A fresh provider service, as Terraform starts it.
pub fn service() -> ProviderService {
    ProviderService::new(Arc::new(JkeProvider::new()))
}
