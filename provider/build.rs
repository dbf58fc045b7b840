//! Compiles the protocol definitions in `../proto` (Terraform plugin protocol 6, go-plugin's
//! controller/stdio/broker services, gRPC health) into Rust with tonic-prost-build.
//!
//! `protoc` comes from the `protoc-bin-vendored` crate, so building needs no system install;
//! a `PROTOC` set in the environment still wins (e.g. Debian's `protobuf-compiler`).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = manifest.join("../proto");
    let protos = [
        "tfplugin6.proto",
        "plugin/grpc_controller.proto",
        "plugin/grpc_stdio.proto",
        "plugin/grpc_broker.proto",
        "grpc/health/v1/health.proto",
    ]
    .map(|p| proto_dir.join(p));

    let protoc = match std::env::var_os("PROTOC") {
        Some(p) => PathBuf::from(p),
        None => protoc_bin_vendored::protoc_bin_path()?,
    };
    // google/protobuf/empty.proto (used by GRPCStdio) ships with the vendored protoc.
    let well_known = protoc_bin_vendored::include_path()?;

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);

    println!("cargo:rerun-if-env-changed=PROTOC");
    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    tonic_prost_build::configure()
        // Clients are used by the integration tests (they play Terraform's part).
        .build_client(true)
        .build_server(true)
        .compile_with_config(config, &protos, &[proto_dir, well_known])?;
    Ok(())
}
