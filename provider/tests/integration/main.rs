//! Every integration test in one binary: each test binary links the whole provider crate, so
//! one binary instead of one per file saves most of the test build's link time.
//!
//!   cargo test --release --test integration                      # all (cluster tests ignored)
//!   cargo test --release --test integration -- --include-ignored # with the local cluster
//!   cargo test --release --test integration golden::             # one module
//!
//! Modules that need the local cluster mark their tests `#[ignore]`; `tests/run` passes
//! `--include-ignored` with `JKE_TEST_KUBECONFIG` set.

mod fake_provider;
mod plugin_client;

mod binary;
#[path = "../../../tests/cluster/proof.rs"]
mod cluster_proof;
mod eks_moto;
mod golden;
mod handshake;
mod jke_cluster_local;
mod protocol;
mod roundtrip;
mod validation_table;
