//! From an [`EksConnection`] to a `kube::Client` whose requests carry fresh EKS tokens.
//!
//! kube 5 refreshes tokens only for its own sources (exec plugins, token files, OIDC, GCP);
//! its `RefreshableToken` is not open to other sources, and an exec plugin would mean
//! shelling out to the aws CLI. So the kube config carries no credentials at all, and
//! [`EksAuthLayer`], the outermost layer of the client's tower stack, sets
//! `Authorization: Bearer <token>` on every request from the shared [`TokenSource`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::future::BoxFuture;
use http::header::{AUTHORIZATION, HeaderValue};
use http::{Request, Response, StatusCode};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use tower::{BoxError, Layer, Service};

use super::{EksConnection, EksError, TokenSource};

/// `kube::Config` for the cluster: its endpoint and CA, no credentials (the token comes
/// from [`EksAuthLayer`]; an `auth_info` token set here would overwrite it).
///
/// Change timeouts or the default namespace on the result if needed, then build the client
/// with [`kube_client_with`].
pub fn kube_config(conn: &EksConnection) -> Result<::kube::Config, EksError> {
    let cluster = &conn.cluster;
    let cluster_url: http::Uri =
        cluster
            .endpoint
            .parse()
            .map_err(|err: http::uri::InvalidUri| EksError::InvalidEndpoint {
                cluster: cluster.name.clone(),
                endpoint: cluster.endpoint.clone(),
                detail: err.to_string(),
            })?;
    if cluster_url.scheme_str() != Some("https") || cluster_url.host().is_none() {
        return Err(EksError::InvalidEndpoint {
            cluster: cluster.name.clone(),
            endpoint: cluster.endpoint.clone(),
            detail: "expected an https:// URL with a host".to_owned(),
        });
    }
    let invalid_ca = |detail: String| EksError::InvalidCa {
        cluster: cluster.name.clone(),
        detail,
    };
    let certs = CertificateDer::pem_slice_iter(&cluster.ca_pem)
        .map(|cert| cert.map(|der| der.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid_ca(format!("not PEM: {err}")))?;
    if certs.is_empty() {
        return Err(invalid_ca("no PEM certificate in it".to_owned()));
    }
    let mut config = ::kube::Config::new(cluster_url);
    config.root_cert = Some(certs);
    Ok(config)
}

/// A `kube::Client` for the connection: [`kube_config`] plus [`EksAuthLayer`].
///
/// Must be called inside a tokio runtime (the client spawns its request buffer).
pub fn kube_client(conn: &EksConnection, max_requests: usize) -> Result<::kube::Client, EksError> {
    kube_client_with(kube_config(conn)?, &conn.tokens, max_requests)
}

/// A `kube::Client` from any `config` (normally [`kube_config`], maybe adjusted) that sends
/// tokens from `tokens`, at most `max_requests` at once. Keeps kube's own stack (TLS,
/// timeouts, tracing) but not its retry layer: [`crate::kube::retry`] retries instead,
/// within each operation's deadline.
pub fn kube_client_with(
    mut config: ::kube::Config,
    tokens: &TokenSource,
    max_requests: usize,
) -> Result<::kube::Client, EksError> {
    config.default_retry = false;
    let builder =
        ::kube::client::ClientBuilder::try_from(config).map_err(|err| EksError::Client {
            cluster: tokens.cluster_name().to_owned(),
            detail: err.to_string(),
        })?;
    Ok(builder
        .with_layer(&EksAuthLayer::new(tokens.clone()))
        .with_layer(&crate::kube::pool::PoolLayer::new(max_requests))
        .build())
}

/// Tower layer that authenticates each request with a token from a [`TokenSource`].
#[derive(Clone, Debug)]
pub struct EksAuthLayer {
    tokens: TokenSource,
}

impl EksAuthLayer {
    pub fn new(tokens: TokenSource) -> Self {
        Self { tokens }
    }
}

impl<S> Layer<S> for EksAuthLayer {
    type Service = EksAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EksAuthService {
            inner,
            tokens: self.tokens.clone(),
            pending: None,
            ready: None,
        }
    }
}

/// The service [`EksAuthLayer`] makes.
///
/// `poll_ready` obtains the token (usually straight from the cache) before the inner service
/// is polled; `call` sets the header. A failure to make a token fails that one request
/// instead of the service, because kube's client sits behind a `tower::Buffer` that would
/// stop for good on a `poll_ready` error. A 401 answer invalidates the cached token so the
/// next request signs anew.
pub struct EksAuthService<S> {
    inner: S,
    tokens: TokenSource,
    pending: Option<BoxFuture<'static, Result<String, EksError>>>,
    ready: Option<Result<HeaderValue, EksError>>,
}

impl<S> std::fmt::Debug for EksAuthService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EksAuthService")
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

fn bearer(token: &str, tokens: &TokenSource) -> Result<HeaderValue, EksError> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|err| EksError::Sign {
            cluster: tokens.cluster_name().to_owned(),
            detail: format!("token is not a valid header value: {err}"),
        })?;
    value.set_sensitive(true);
    Ok(value)
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for EksAuthService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.ready.is_none() {
            let pending = self.pending.get_or_insert_with(|| {
                let tokens = self.tokens.clone();
                Box::pin(async move { tokens.token().await })
            });
            let result = ready!(pending.as_mut().poll(cx));
            self.pending = None;
            self.ready = Some(result.and_then(|token| bearer(&token, &self.tokens)));
        }
        if matches!(self.ready, Some(Err(_))) {
            // Reported by `call`, for this request only.
            return Poll::Ready(Ok(()));
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        match self.ready.take() {
            Some(Ok(value)) => {
                request.headers_mut().insert(AUTHORIZATION, value);
                let response = self.inner.call(request);
                let tokens = self.tokens.clone();
                Box::pin(async move {
                    let response = response.await.map_err(Into::into)?;
                    if response.status() == StatusCode::UNAUTHORIZED {
                        tracing::debug!(
                            cluster = tokens.cluster_name(),
                            "EKS API server answered 401; the next request gets a new token"
                        );
                        tokens.invalidate();
                    }
                    Ok(response)
                })
            }
            Some(Err(err)) => Box::pin(std::future::ready(Err(BoxError::from(err)))),
            None => Box::pin(std::future::ready(Err(BoxError::from(
                "EksAuthService::call without a successful poll_ready",
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use aws_credential_types::Credentials;
    use aws_credential_types::credential_fn::provide_credentials_fn;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::provider::error::CredentialsError;
    use tower::ServiceExt as _;

    use super::super::EksCluster;
    use super::super::token::TOKEN_PREFIX;
    use super::*;

    fn tokens() -> TokenSource {
        TokenSource::new(
            "apps-dev",
            "eu-west-1",
            SharedCredentialsProvider::new(Credentials::new(
                "AKIDJKETESTEXAMPLE",
                "secret",
                None,
                None,
                "test",
            )),
        )
    }

    fn connection(endpoint: &str, ca_pem: Vec<u8>) -> EksConnection {
        EksConnection {
            cluster: EksCluster {
                name: "apps-dev".into(),
                region: "eu-west-1".into(),
                arn: None,
                endpoint: endpoint.into(),
                ca_pem,
                tags: BTreeMap::new(),
                environment: Some("dev".into()),
                status: "ACTIVE".into(),
                version: None,
            },
            tokens: tokens(),
        }
    }

    fn ca_pem() -> (Vec<u8>, Vec<u8>) {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["kubernetes".to_owned()]).expect("params");
        let cert = params.self_signed(&key).expect("self-signed");
        (cert.pem().into_bytes(), cert.der().to_vec())
    }

    #[test]
    fn kube_config_carries_endpoint_and_ca_but_no_credentials() {
        let (pem, der) = ca_pem();
        let conn = connection("https://ABC.gr7.eu-west-1.eks.amazonaws.com", pem);
        let config = kube_config(&conn).expect("config");
        assert_eq!(
            config.cluster_url.to_string(),
            "https://ABC.gr7.eu-west-1.eks.amazonaws.com/"
        );
        assert_eq!(config.root_cert, Some(vec![der]));
        assert!(config.auth_info.token.is_none());
        assert!(config.auth_info.exec.is_none(), "no aws CLI exec plugin");
    }

    #[test]
    fn kube_config_refuses_a_ca_that_is_not_pem() {
        let conn = connection("https://x.eks.amazonaws.com", b"random bytes".to_vec());
        let err = kube_config(&conn).expect_err("garbage CA");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        assert!(err.to_string().contains("apps-dev"), "{err}");
        let conn = connection("http://x.eks.amazonaws.com", ca_pem().0);
        let err = kube_config(&conn).expect_err("plain http");
        assert!(matches!(err, EksError::InvalidEndpoint { .. }), "{err}");
    }

    #[tokio::test]
    async fn kube_client_builds_inside_a_runtime() {
        let conn = connection("https://x.eks.amazonaws.com", ca_pem().0);
        kube_client(&conn, 4).expect("client");
    }

    type Seen = Arc<Mutex<Vec<Option<String>>>>;

    /// Inner service that records the Authorization header and answers with `status`.
    #[derive(Clone)]
    struct Recorder {
        status: StatusCode,
        seen: Seen,
    }

    impl Service<Request<()>> for Recorder {
        type Response = Response<()>;
        type Error = BoxError;
        type Future = std::future::Ready<Result<Response<()>, BoxError>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: Request<()>) -> Self::Future {
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or("<binary>").to_owned());
            self.seen.lock().expect("lock").push(header);
            let mut response = Response::new(());
            *response.status_mut() = self.status;
            std::future::ready(Ok(response))
        }
    }

    fn recorder(status: StatusCode) -> (Recorder, Seen) {
        let seen = Seen::default();
        let service = Recorder {
            status,
            seen: seen.clone(),
        };
        (service, seen)
    }

    #[tokio::test]
    async fn every_request_carries_the_current_token() {
        let source = tokens();
        let (inner, seen) = recorder(StatusCode::OK);
        let mut service = EksAuthLayer::new(source.clone()).layer(inner);
        for _ in 0..2 {
            let response = (&mut service)
                .oneshot(Request::new(()))
                .await
                .expect("response");
            assert_eq!(response.status(), StatusCode::OK);
        }
        let expected = format!("Bearer {}", source.token().await.expect("token"));
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen, vec![Some(expected.clone()), Some(expected)]);
        assert!(seen[0].as_deref().unwrap_or_default()[7..].starts_with(TOKEN_PREFIX));
    }

    #[tokio::test]
    async fn a_401_makes_the_next_request_sign_anew() {
        let signed = Arc::new(AtomicUsize::new(0));
        let counter = signed.clone();
        let source = TokenSource::new(
            "apps-dev",
            "eu-west-1",
            SharedCredentialsProvider::new(provide_credentials_fn(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    Ok(Credentials::new(
                        "AKIDJKETEST",
                        "secret",
                        None,
                        None,
                        "test",
                    ))
                }
            })),
        );
        let (inner, _seen) = recorder(StatusCode::UNAUTHORIZED);
        let mut service = EksAuthLayer::new(source.clone()).layer(inner);
        (&mut service)
            .oneshot(Request::new(()))
            .await
            .expect("response");
        assert_eq!(signed.load(Ordering::SeqCst), 1);
        source.token().await.expect("token");
        assert_eq!(
            signed.load(Ordering::SeqCst),
            2,
            "the 401 invalidated the cache"
        );
        source.token().await.expect("token");
        assert_eq!(signed.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn token_failures_fail_the_request_not_the_service() {
        let failing = TokenSource::new(
            "apps-dev",
            "eu-west-1",
            SharedCredentialsProvider::new(provide_credentials_fn(|| async {
                Err(CredentialsError::not_loaded("no credentials in test"))
            })),
        );
        let (inner, seen) = recorder(StatusCode::OK);
        let mut service = EksAuthLayer::new(failing).layer(inner);
        for _ in 0..2 {
            let err = (&mut service)
                .oneshot(Request::new(()))
                .await
                .expect_err("no credentials");
            assert!(err.to_string().contains("no AWS credentials"), "{err}");
        }
        assert!(seen.lock().expect("lock").is_empty(), "nothing was sent");
    }

    /// Through kube's real client stack: a loopback HTTP server sees the bearer token.
    #[tokio::test]
    async fn kube_client_sends_the_token_to_the_api_server() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.expect("read");
                assert!(n > 0, "client closed early");
                request.extend_from_slice(&buf[..n]);
            }
            let body = r#"{"major":"1","minor":"33","gitVersion":"v1.33.0","gitCommit":"","gitTreeState":"","buildDate":"","goVersion":"","compiler":"","platform":""}"#;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.expect("write");
            String::from_utf8_lossy(&request).into_owned()
        });

        let source = tokens();
        let config = ::kube::Config::new(format!("http://{addr}").parse().expect("url"));
        let client = kube_client_with(config, &source, 4).expect("client");
        let version = client.apiserver_version().await.expect("version");
        assert_eq!(version.git_version, "v1.33.0");

        let request = server.await.expect("server task");
        let expected = format!(
            "authorization: Bearer {}",
            source.token().await.expect("token")
        );
        assert!(
            request
                .lines()
                .any(|line| line.eq_ignore_ascii_case(&expected)),
            "request lacks the token header:\n{request}"
        );
    }
}
