//! Serving a [`Provider`] the way Terraform runs providers (go-plugin), or in `--debug` mode
//! for `TF_REATTACH_PROVIDERS`.
//!
//! Plugin mode: check the magic cookie, negotiate protocol 6, set up AutoMTLS when Terraform
//! sent a client certificate, listen on a unix socket in a temp directory, print the
//! handshake line, serve until GRPCController.Shutdown (or SIGTERM). SIGINT is ignored like
//! Go providers do: on Ctrl-C Terraform itself stops providers (StopProvider, Shutdown).
//!
//! Debug mode: no cookie, no TLS; print the reattach configuration; serve until Ctrl-C.

use super::go_plugin::{Broker, Controller, Health, Shutdown, Stdio};
use super::handshake::{self, HandshakeError};
use super::proto::health::health_server::HealthServer;
use super::proto::plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use super::provider::Provider;
use super::server::ProviderService;
use super::tls::{self, TlsError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::{ReceiverStream, UnixListenerStream};

/// The provider's source address, as Terraform names it in `TF_REATTACH_PROVIDERS`.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/jke/jke";

/// How long in-flight calls may run on after a shutdown request before the process exits
/// anyway (go-plugin's host kills the plugin 2 seconds after asking it to stop).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);
/// A client that does not finish its TLS handshake in this time is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How to serve. [`ServeOpts::from_env`] reads what Terraform sets; tests fill it in.
pub struct ServeOpts {
    /// `--debug`: serve for `TF_REATTACH_PROVIDERS` (no cookie, no TLS, Ctrl-C stops).
    pub debug: bool,
    /// `TF_PLUGIN_MAGIC_COOKIE`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_CLIENT_CERT` (PEM): when set, AutoMTLS.
    pub client_cert_pem: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`, else the system temp directory.
    pub unix_socket_dir: Option<PathBuf>,
    /// The address for the reattach configuration in debug mode.
    pub provider_address: String,
    /// Where the handshake line (plugin mode) or the reattach JSON (debug mode) goes; stdout
    /// when `None`.
    pub announce: Option<oneshot::Sender<String>>,
    /// Install SIGINT/SIGTERM handling (the binary does; in-process tests don't).
    pub handle_signals: bool,
    /// Stops serving when triggered, besides GRPCController.Shutdown and signals.
    pub shutdown: Shutdown,
}

impl ServeOpts {
    /// Options from the environment Terraform (or a person, with `--debug`) gives the binary.
    pub fn from_env(debug: bool) -> Self {
        let var = |k: &str| std::env::var(k).ok();
        ServeOpts {
            debug,
            magic_cookie: var(handshake::MAGIC_COOKIE_KEY),
            protocol_versions: var("PLUGIN_PROTOCOL_VERSIONS"),
            client_cert_pem: var("PLUGIN_CLIENT_CERT").filter(|s| !s.trim().is_empty()),
            unix_socket_dir: var("PLUGIN_UNIX_SOCKET_DIR")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            provider_address: PROVIDER_ADDRESS.to_string(),
            announce: None,
            handle_signals: true,
            shutdown: Shutdown::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error("AutoMTLS: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot listen on a unix socket in {dir}: {source}")]
    Listen {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the handshake to stdout: {0}")]
    Announce(std::io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Entry point for `main`: parses `--debug`, sets up logging and a runtime, serves
/// `provider`, and returns the process exit code (1 when not started by Terraform).
pub fn main_with(provider: Arc<dyn Provider>) -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "-h" | "--help" | "-help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let opts = ServeOpts::from_env(debug);
    if !debug && let Err(e) = handshake::check_cookie(opts.magic_cookie.as_deref()) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    super::logging::init(debug);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(serve(provider, opts));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "provider stopped");
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

const USAGE: &str = "\
usage: terraform-provider-jke [--debug]

Terraform starts this provider itself. --debug runs it standalone and prints the
TF_REATTACH_PROVIDERS value that makes Terraform use it (stop it with Ctrl-C).";

/// Serves `provider` until shut down (see the module documentation).
pub async fn serve(provider: Arc<dyn Provider>, opts: ServeOpts) -> Result<(), ServeError> {
    if !opts.debug {
        handshake::check_cookie(opts.magic_cookie.as_deref())?;
        handshake::negotiate_version(opts.protocol_versions.as_deref())?;
    }
    let shutdown = opts.shutdown.clone();
    if opts.handle_signals {
        handle_signals(opts.debug, &shutdown)?;
    }
    let mtls = match (&opts.client_cert_pem, opts.debug) {
        (Some(pem), false) => Some(tls::auto_mtls(pem)?),
        _ => None,
    };
    let socket_dir = opts
        .unix_socket_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let (socket, listener) =
        SocketFile::bind(&socket_dir).map_err(|source| ServeError::Listen {
            dir: socket_dir.clone(),
            source,
        })?;
    tracing::debug!(socket = %socket.path.display(), tls = mtls.is_some(), "listening");

    let router = tonic::transport::Server::builder()
        .add_service(ProviderService::new(provider).into_server())
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }))
        .add_service(HealthServer::new(Health));

    let server_cert = mtls.as_ref().map(|m| m.server_cert_der.clone());
    let served = async {
        match mtls {
            Some(m) => {
                let incoming = tls_incoming(listener, m.config, shutdown.clone());
                router
                    .serve_with_incoming_shutdown(incoming, shutdown.wait())
                    .await
            }
            None => {
                router
                    .serve_with_incoming_shutdown(
                        UnixListenerStream::new(listener),
                        shutdown.wait(),
                    )
                    .await
            }
        }
    };

    let line = if opts.debug {
        handshake::reattach_config(&opts.provider_address, &socket.path, std::process::id())
    } else {
        handshake::handshake_line(&socket.path, server_cert.as_deref())
    };
    match opts.announce {
        Some(tx) => {
            let _ = tx.send(line);
        }
        None => announce_on_stdout(&line, opts.debug).map_err(ServeError::Announce)?,
    }

    tokio::pin!(served);
    let grace_over = {
        let wait = shutdown.wait();
        async move {
            wait.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        }
    };
    tokio::select! {
        result = &mut served => result?,
        _ = grace_over => {
            tracing::warn!("calls still running {SHUTDOWN_GRACE:?} after shutdown; exiting anyway");
        }
    }
    tracing::debug!("stopped serving");
    drop(socket);
    Ok(())
}

fn announce_on_stdout(line: &str, debug: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if debug {
        writeln!(
            out,
            "Provider started in debug mode. To make Terraform use it, set this in the \
             environment of the terraform commands:\n\n\tTF_REATTACH_PROVIDERS='{line}'\n\n\
             Press Ctrl-C to stop the provider."
        )?;
    } else {
        writeln!(out, "{line}")?;
    }
    out.flush()
}

fn handle_signals(debug: bool, shutdown: &Shutdown) -> Result<(), ServeError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServeError::Signals)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(ServeError::Signals)?;
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = interrupt.recv() => {
                    if debug {
                        tracing::info!("interrupted: stopping");
                        shutdown.trigger();
                    } else {
                        // Terraform forwards Ctrl-C to the whole process group and then stops
                        // providers through the protocol; dying here would break that.
                        tracing::trace!("ignoring SIGINT; Terraform stops providers itself");
                    }
                }
                Some(()) = terminate.recv() => {
                    tracing::info!("SIGTERM: stopping");
                    shutdown.trigger();
                }
                else => break,
            }
        }
    });
    Ok(())
}

/// TLS-wrapped connections from `listener`, for tonic. Handshakes run concurrently so that a
/// stalled client cannot block the next one; failed handshakes are logged and dropped.
fn tls_incoming(
    listener: UnixListener,
    config: Arc<rustls::ServerConfig>,
    shutdown: Shutdown,
) -> ReceiverStream<std::io::Result<tokio_rustls::server::TlsStream<UnixStream>>> {
    let (tx, rx) = mpsc::channel(8);
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            let conn = tokio::select! {
                c = listener.accept() => c,
                _ = &mut stop => break,
            };
            let stream = match conn {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "TLS handshake with a client failed"),
                    Err(_) => tracing::warn!("TLS handshake with a client timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// The path of a listening unix socket; the file is removed when this is dropped.
struct SocketFile {
    path: PathBuf,
}

impl SocketFile {
    /// Binds `DIR/plugin<random>` (go-plugin's naming), accessible to this user only.
    fn bind(dir: &Path) -> std::io::Result<(SocketFile, UnixListener)> {
        use std::hash::{BuildHasher, Hasher};
        use std::os::unix::fs::PermissionsExt;
        let mut last_err = None;
        for _ in 0..16 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            let path = dir.join(format!("plugin{}", h.finish() % 10_000_000_000));
            match UnixListener::bind(&path) {
                Ok(listener) => {
                    let file = SocketFile { path };
                    std::fs::set_permissions(&file.path, std::fs::Permissions::from_mode(0o600))?;
                    return Ok((file, listener));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| std::io::Error::other("no free socket name")))
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
