//! The cluster side: connecting (explicit settings, kubeconfig with context, EKS) behind the
//! environment guard, server-side apply, get, list, prune, delete and waits of any object,
//! rollout status, and pods, logs, exec and restarts for the `jke` command. Knows nothing of
//! Terraform or of JKE's resources: it takes objects and returns typed errors.

pub mod apply;
pub mod client;
pub mod delete;
pub mod eks;
pub mod error;
pub mod exec;
pub mod object;
pub mod pods;
pub mod pool;
pub mod read;
pub mod restart;
pub mod retry;
pub mod rollout;
pub mod settings;

pub use client::Cluster;
pub use delete::Propagation;
pub use error::KubeError;
pub use object::{ObjectRef, ResourceType};
