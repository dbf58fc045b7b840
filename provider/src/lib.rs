//! JKE's Terraform provider. Layers, outer to inner (dependencies point inward only):
//! `plugin` (Terraform protocol) -> `resources` (Terraform calls to domain calls) ->
//! `app` (pure application model) and `kube` (the cluster side).

pub mod kube;
pub mod plugin;
