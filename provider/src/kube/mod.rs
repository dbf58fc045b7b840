//! The cluster side: connecting (explicit settings or EKS), server-side apply, prune,
//! delete, rollout wait and rollback. Knows nothing of Terraform.

pub mod apply;
pub mod client;
pub mod eks;
pub mod error;
pub mod rollout;
pub mod settings;

pub use client::Cluster;
pub use error::KubeError;
