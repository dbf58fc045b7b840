//! JKE's Terraform provider. Layers, outer to inner (dependencies point inward only):
//! `plugin` (Terraform protocol) -> `resources` (Terraform calls to domain calls) ->
//! `app` (pure application model) and `kube` (the cluster side). `cli` is the `jke` command
//! for app engineers: it uses `app` and `kube` like `resources` does, and knows no Terraform.
//! `webhook` posts deploy notifications; like `kube`, it knows nothing of Terraform or apps.

pub mod app;
pub mod cli;
pub mod kube;
pub mod plugin;
pub mod resources;
pub mod webhook;
