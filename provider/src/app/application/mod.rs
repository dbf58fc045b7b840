//! `jke_application`'s domain: the app model with its defaults ([`spec`]), its validation
//! ([`validate`]), its expansion into Kubernetes objects ([`bundle`]) and the comparison of
//! live objects with it ([`observe`]). Pure: no I/O, no Terraform, no cluster.

pub mod bundle;
pub mod observe;
pub mod owner;
pub mod replicas;
pub mod spec;
pub mod validate;
