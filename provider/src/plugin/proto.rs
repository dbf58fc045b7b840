//! Code generated from `proto/` by `build.rs` (tonic-prost-build): message types, server
//! traits and clients. The clients play Terraform's part in tests.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's GRPCController, GRPCStdio and GRPCBroker services.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// The standard gRPC health service, which go-plugin registers on every plugin.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod health {
    tonic::include_proto!("grpc.health.v1");
}
