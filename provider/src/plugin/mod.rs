//! The Terraform side: go-plugin handshake, the tfplugin6 gRPC service, values and schemas.
//! Knows nothing of Kubernetes.

pub mod codec;
pub mod diagnostics;
pub mod proto;
pub mod provider;
pub mod schema;
pub mod value;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use provider::*;
pub use schema::{AttrKind, Attribute, Block, IdentityAttribute, IdentitySchema, Nesting, Schema};
pub use value::{AttrPath, Number, PathStep, Type, Value};
