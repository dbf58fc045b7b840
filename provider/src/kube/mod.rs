//! The cluster side: connecting, server-side apply, prune, delete, rollout wait and rollback.
//! Knows nothing of Terraform.

pub mod apply;
pub mod client;
pub mod eks_client;
pub mod error;
pub mod rollout;
pub mod settings;

pub use client::Cluster;
pub use error::KubeError;
