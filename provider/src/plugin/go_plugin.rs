//! The services go-plugin's host side expects next to the provider: GRPCController (Terraform
//! asks the plugin to exit), GRPCStdio (mirrored output; ours stays empty because logs go to
//! the real stderr, which the host reads), GRPCBroker (extra connections; never used by
//! Terraform providers) and gRPC health for service "plugin".

use super::proto::health as hpb;
use super::proto::plugin as gpb;
use futures::{Stream, StreamExt};
use std::pin::Pin;
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

/// The name go-plugin's Ping() asks the health service about.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

/// A one-way "stop serving" switch shared by the serve loop and the services.
#[derive(Clone)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Shutdown {
            tx: watch::channel(false).0,
        }
    }

    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once [`Shutdown::trigger`] has been called (immediately if it already was).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            // An error means the sender is gone: nobody can trigger any more, so stop too.
            let _ = rx.wait_for(|v| *v).await;
        }
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A response stream that sends nothing and ends at shutdown, so graceful shutdown does not
/// wait for the host to hang up.
fn silent_until<T: Send + 'static>(shutdown: &Shutdown) -> BoxStream<T> {
    Box::pin(futures::stream::pending().take_until(shutdown.wait()))
}

pub struct Controller {
    pub shutdown: Shutdown,
}

#[tonic::async_trait]
impl gpb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<gpb::Empty>) -> Result<Response<gpb::Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown: stopping");
        self.shutdown.trigger();
        Ok(Response::new(gpb::Empty {}))
    }
}

pub struct Stdio {
    pub shutdown: Shutdown,
}

#[tonic::async_trait]
impl gpb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<gpb::StdioData>;

    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(silent_until(&self.shutdown)))
    }
}

pub struct Broker {
    pub shutdown: Shutdown,
}

#[tonic::async_trait]
impl gpb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<gpb::ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<gpb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = request.into_inner();
        let shutdown = self.shutdown.wait();
        tokio::spawn(async move {
            // Drain and ignore: this provider never brokers connections.
            let drain = async {
                while let Some(Ok(info)) = incoming.next().await {
                    tracing::trace!(service_id = info.service_id, "ignoring broker message");
                }
            };
            tokio::select! {
                _ = drain => {}
                _ = shutdown => {}
            }
        });
        Ok(Response::new(silent_until(&self.shutdown)))
    }
}

pub struct Health;

#[tonic::async_trait]
impl hpb::health_server::Health for Health {
    async fn check(
        &self,
        request: Request<hpb::HealthCheckRequest>,
    ) -> Result<Response<hpb::HealthCheckResponse>, Status> {
        let service = request.into_inner().service;
        if service.is_empty() || service == HEALTH_SERVICE_NAME {
            Ok(Response::new(hpb::HealthCheckResponse {
                status: hpb::health_check_response::ServingStatus::Serving as i32,
            }))
        } else {
            Err(Status::not_found(format!("unknown service {service:?}")))
        }
    }
}
