//! The Terraform side: go-plugin handshake, the tfplugin6 gRPC service, values and schemas.
//! Knows nothing of Kubernetes.

pub mod codec;
pub mod diagnostics;
pub mod go_plugin;
pub mod handshake;
pub mod logging;
pub mod proto;
pub mod provider;
pub mod schema;
pub mod serve;
pub mod server;
pub mod tls;
pub mod upgrade;
pub mod value;
pub mod wire;
pub mod write_only;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use provider::*;
pub use schema::{AttrKind, Attribute, Block, IdentityAttribute, IdentitySchema, Nesting, Schema};
pub use serve::{PROVIDER_ADDRESS, ServeError, ServeOpts, main_with, serve};
pub use value::{AttrPath, Number, PathStep, Type, Value};
