//! The go-plugin side of serving, in process: handshake line, AutoMTLS as Terraform does it,
//! the controller/stdio/broker/health services, shutdown, debug mode.

use crate::fake_provider::FakeProvider;
use crate::plugin_client::*;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;
use terraform_provider_jke::plugin::proto::health::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use terraform_provider_jke::plugin::proto::plugin::{
    ConnInfo, Empty, grpc_broker_client::GrpcBrokerClient,
    grpc_controller_client::GrpcControllerClient, grpc_stdio_client::GrpcStdioClient,
};
use terraform_provider_jke::plugin::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient,
};
use terraform_provider_jke::plugin::{ServeError, ServeOpts, handshake, serve};
use tokio::task::JoinHandle;
use tokio::time::timeout;

const T: Duration = Duration::from_secs(10);

fn start(opts: ServeOpts) -> JoinHandle<Result<(), ServeError>> {
    tokio::spawn(serve(Arc::new(FakeProvider::new()), opts))
}

async fn schema_ok(channel: tonic::transport::Channel) -> Result<(), tonic::Status> {
    let resp = ProviderClient::new(channel)
        .get_provider_schema(get_provider_schema::Request {})
        .await?
        .into_inner();
    assert!(
        resp.resource_schemas
            .contains_key(crate::fake_provider::RESOURCE)
    );
    Ok(())
}

#[tokio::test]
async fn automtls_handshake_services_and_shutdown() {
    let client = client_cert();
    let (opts, line) = plugin_opts(socket_dir("mtls"), Some(client.pem.clone()));
    let served = start(opts);
    let line = timeout(T, line).await.unwrap().unwrap();
    let hs = parse_handshake(&line);
    assert_eq!(
        (
            hs.core_version.as_str(),
            hs.app_version.as_str(),
            hs.network.as_str(),
            hs.protocol.as_str()
        ),
        ("1", "6", "unix", "grpc")
    );
    let meta = std::fs::metadata(&hs.address).expect("socket exists");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let cert = hs
        .server_cert_der
        .clone()
        .expect("AutoMTLS server certificate");

    let channel = timeout(T, connect_mtls(hs.address.clone(), &cert, &client))
        .await
        .unwrap()
        .expect("mTLS connection with the announced certificates");
    schema_ok(channel.clone()).await.unwrap();

    // go-plugin's Ping.
    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    // go-plugin's host opens the stdio stream and the broker stream right after connecting.
    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let (broker_tx, broker_rx) = tokio::sync::mpsc::channel::<ConnInfo>(1);
    let mut broker = GrpcBrokerClient::new(channel.clone())
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(broker_rx))
        .await
        .unwrap()
        .into_inner();
    broker_tx
        .send(ConnInfo {
            service_id: 1,
            network: "unix".into(),
            address: "/nowhere".into(),
            knock: None,
        })
        .await
        .unwrap();

    GrpcControllerClient::new(channel.clone())
        .shutdown(Empty {})
        .await
        .unwrap();
    // Both long-lived streams end, and serving stops promptly and cleanly.
    assert!(
        timeout(T, stdio.message())
            .await
            .unwrap()
            .unwrap_or(None)
            .is_none()
    );
    assert!(
        timeout(T, broker.message())
            .await
            .unwrap()
            .unwrap_or(None)
            .is_none()
    );
    let result = timeout(Duration::from_secs(5), served)
        .await
        .expect("serve returns after Shutdown");
    result.unwrap().unwrap();
    assert!(!hs.address.exists(), "socket file removed");
}

#[tokio::test]
async fn client_without_the_announced_certificate_is_refused() {
    let client = client_cert();
    let (opts, line) = plugin_opts(socket_dir("refuse"), Some(client.pem.clone()));
    let shutdown = opts.shutdown.clone();
    let served = start(opts);
    let hs = parse_handshake(&timeout(T, line).await.unwrap().unwrap());
    let cert = hs.server_cert_der.clone().unwrap();

    let stranger = client_cert();
    let refused = match connect_mtls(hs.address.clone(), &cert, &stranger).await {
        Err(_) => true,
        Ok(ch) => schema_ok(ch).await.is_err(),
    };
    assert!(refused, "a client with another certificate got through");

    // Copying the announced certificate is not enough: the handshake signature is checked.
    let impostor = client.with_key_of(&stranger);
    let refused = match connect_mtls(hs.address.clone(), &cert, &impostor).await {
        Err(_) => true,
        Ok(ch) => schema_ok(ch).await.is_err(),
    };
    assert!(
        refused,
        "a client without the certificate's key got through"
    );

    // Plaintext to a TLS server fails too.
    let plain = match connect_plain(hs.address.clone()).await {
        Err(_) => true,
        Ok(ch) => timeout(T, schema_ok(ch)).await.map_or(true, |r| r.is_err()),
    };
    assert!(plain, "a plaintext client got through");

    // The right client still works.
    let ch = connect_mtls(hs.address.clone(), &cert, &client)
        .await
        .unwrap();
    schema_ok(ch).await.unwrap();

    shutdown.trigger();
    timeout(T, served).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn plaintext_when_terraform_sends_no_client_certificate() {
    let (opts, line) = plugin_opts(socket_dir("plain"), None);
    let shutdown = opts.shutdown.clone();
    let served = start(opts);
    let line = timeout(T, line).await.unwrap().unwrap();
    assert!(line.ends_with("|grpc|"), "{line}");
    let hs = parse_handshake(&line);
    let ch = connect_plain(hs.address.clone()).await.unwrap();
    schema_ok(ch).await.unwrap();
    shutdown.trigger();
    timeout(T, served).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn cookie_and_protocol_version_are_checked() {
    let (mut opts, _line) = plugin_opts(socket_dir("cookie"), None);
    opts.magic_cookie = None;
    let err = serve(Arc::new(FakeProvider::new()), opts)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ServeError::Handshake(handshake::HandshakeError::NotStartedByTerraform)
    ));
    assert!(
        err.to_string()
            .starts_with("This binary is a plugin for Terraform")
    );

    let (mut opts, _line) = plugin_opts(socket_dir("version"), None);
    opts.protocol_versions = Some("4,5".into());
    let err = serve(Arc::new(FakeProvider::new()), opts)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only version 6"), "{err}");
}

#[tokio::test]
async fn unusable_client_certificate_is_an_error() {
    let (opts, _line) = plugin_opts(socket_dir("badcert"), Some("not a certificate".into()));
    let err = serve(Arc::new(FakeProvider::new()), opts)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PLUGIN_CLIENT_CERT"), "{err}");
}

#[tokio::test]
async fn debug_mode_announces_reattach_config() {
    let (mut opts, line) = plugin_opts(socket_dir("debug"), None);
    opts.debug = true;
    opts.magic_cookie = None; // no cookie needed
    let shutdown = opts.shutdown.clone();
    let served = start(opts);
    let json = timeout(T, line).await.unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cfg = &v["registry.terraform.io/jke/jke"];
    assert_eq!(cfg["Protocol"], "grpc");
    assert_eq!(cfg["ProtocolVersion"], 6);
    assert_eq!(cfg["Pid"], std::process::id());
    assert_eq!(cfg["Test"], true);
    assert_eq!(cfg["Addr"]["Network"], "unix");
    let path = std::path::PathBuf::from(cfg["Addr"]["String"].as_str().unwrap());
    let ch = connect_plain(path.clone()).await.unwrap();
    schema_ok(ch).await.unwrap();
    shutdown.trigger();
    timeout(T, served).await.unwrap().unwrap().unwrap();
    assert!(!path.exists());
}
