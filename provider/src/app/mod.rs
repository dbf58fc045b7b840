//! The domain: a typed application model, its expansion into Kubernetes objects and the
//! comparison of live objects with it; and the cluster-level platform model (`platform`).
//! Pure: no I/O, no Terraform, no cluster.

pub mod bundle;
pub mod live_diff;
pub mod observe;
pub mod platform;
pub mod quantity;
pub mod spec;
pub mod validate;
