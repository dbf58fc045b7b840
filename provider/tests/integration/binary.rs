//! The built binary, run the way Terraform runs it: environment, handshake line on stdout,
//! signals, shutdown through GRPCController.
//!

use crate::plugin_client::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use terraform_provider_jke::plugin::handshake::MAGIC_COOKIE_VALUE;
use terraform_provider_jke::plugin::proto::plugin::{
    Empty, grpc_controller_client::GrpcControllerClient,
};
use terraform_provider_jke::plugin::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient,
};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-jke");

fn plugin_command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir)
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Reads the first stdout line (the handshake) in a thread, with a timeout.
fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("handshake line within 20s")
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

#[test]
fn run_by_hand_it_explains_and_exits_1() {
    let out = Command::new(BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("This binary is a plugin for Terraform"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn refuses_when_protocol_6_is_not_offered() {
    let dir = socket_dir("bin-v5");
    let out = plugin_command(&dir)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only version 6"));
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_with_automtls_ignores_sigint_and_stops_on_shutdown() {
    let dir = socket_dir("bin-mtls");
    let cert = client_cert();
    let mut child = plugin_command(&dir)
        .env("PLUGIN_CLIENT_CERT", &cert.pem)
        .spawn()
        .unwrap();
    let line = first_line(&mut child);
    assert!(line.ends_with('\n'));
    let hs = parse_handshake(&line);
    assert_eq!(
        (hs.core_version.as_str(), hs.app_version.as_str()),
        ("1", "6")
    );
    assert!(hs.address.starts_with(&dir));

    // Ctrl-C in the terminal reaches the provider too: it must keep serving.
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGINT killed the provider"
    );

    let channel = connect_mtls(hs.address.clone(), &hs.server_cert_der.unwrap(), &cert)
        .await
        .unwrap();
    let schema = ProviderClient::new(channel.clone())
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.provider.is_some());

    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(3)).expect("exits after Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(!hs.address.exists(), "socket file removed");
}

#[test]
fn exits_on_sigterm() {
    let dir = socket_dir("bin-term");
    let mut child = plugin_command(&dir).spawn().unwrap();
    let hs = parse_handshake(&first_line(&mut child));
    signal(&child, "-TERM");
    let status = wait_exit(&mut child, Duration::from_secs(3)).expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(!hs.address.exists());
}

#[test]
fn debug_flag_prints_reattach_and_stops_on_ctrl_c() {
    let dir = socket_dir("bin-debug");
    let mut child = Command::new(BIN)
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env("PLUGIN_UNIX_SOCKET_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(v) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS=") {
                let _ = tx.send(v.to_string());
                return;
            }
        }
    });
    let value = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("a TF_REATTACH_PROVIDERS line");
    let json = value.trim_matches('\'');
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let cfg = &v["registry.terraform.io/jke/jke"];
    assert_eq!(cfg["Pid"], child.id());
    assert_eq!(cfg["ProtocolVersion"], 6);
    signal(&child, "-INT");
    let status = wait_exit(&mut child, Duration::from_secs(3)).expect("Ctrl-C stops --debug");
    assert!(status.success(), "{status:?}");
}
