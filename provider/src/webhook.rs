//! Posting a JSON body to a webhook (deploy notifications, `jke_notify`), bounded by a
//! timeout. Knows nothing of Terraform, apps or clusters.
//!
//! The URL is a secret (a Slack incoming-webhook URL is its own credential): it is never
//! logged, and no error this module returns contains it.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("the webhook URL is not a valid http:// or https:// URL")]
    InvalidUrl,
    #[error("the receiver did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    #[error("cannot reach the receiver: {0}")]
    Unreachable(String),
    #[error("no TLS root certificates on this machine to check the receiver with: {0}")]
    NoRoots(String),
}

type Body = Full<Bytes>;

fn plain_client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).build(HttpConnector::new()))
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;

/// HTTPS with rustls (ring) and the system's root certificates, built once.
fn tls_client() -> Result<&'static HttpsClient, WebhookError> {
    static CLIENT: OnceLock<Result<HttpsClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| e.to_string())?
                .https_only()
                .enable_http1()
                .build();
            Ok(Client::builder(TokioExecutor::new()).build(https))
        })
        .as_ref()
        .map_err(|e| WebhookError::NoRoots(e.clone()))
}

/// POST `body` as JSON to `url`; any 2xx answer within `timeout` is success.
pub async fn post_json(
    url: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<(), WebhookError> {
    let uri: hyper::Uri = url.parse().map_err(|_| WebhookError::InvalidUrl)?;
    let req = hyper::Request::post(uri.clone())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("terraform-provider-jke/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|_| WebhookError::InvalidUrl)?;
    let sent = match uri.scheme_str() {
        Some("http") => send(plain_client(), req, timeout).await,
        Some("https") => send(tls_client()?, req, timeout).await,
        _ => return Err(WebhookError::InvalidUrl),
    };
    // Errors from the HTTP stack describe the connection, not the URL; scrub anyway.
    sent.map_err(|e| match e {
        WebhookError::Unreachable(m) => WebhookError::Unreachable(scrub(&m, url)),
        other => other,
    })
}

async fn send<C>(
    client: &Client<C, Body>,
    req: hyper::Request<Body>,
    timeout: Duration,
) -> Result<(), WebhookError>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    match tokio::time::timeout(timeout, client.request(req)).await {
        Err(_) => Err(WebhookError::Timeout(timeout)),
        Ok(Err(e)) => Err(WebhookError::Unreachable(error_chain(&e))),
        Ok(Ok(resp)) if resp.status().is_success() => Ok(()),
        Ok(Ok(resp)) => Err(WebhookError::Status(resp.status().as_u16())),
    }
}

/// "client error (Connect): tcp connect error: Connection refused (os error 111)".
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// `message` without the URL or its path (where Slack keeps the secret).
fn scrub(message: &str, url: &str) -> String {
    let mut out = message.replace(url, "<webhook>");
    if let Some(path) = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .filter(|p| p.len() > 1)
    {
        out = out.replace(path, "/<path>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-shot receiver on loopback that answers with `status` (or never answers), and
    /// hands back what it got.
    async fn receiver(status: Option<u16>) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let Ok((mut sock, _)) = listener.accept().await else {
                return String::new();
            };
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Read headers and the body (small, one or two reads).
            while let Ok(n) = sock.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
            }
            match status {
                Some(s) => {
                    let answer = format!("HTTP/1.1 {s} X\r\ncontent-length: 0\r\n\r\n");
                    let _ = sock.write_all(answer.as_bytes()).await;
                }
                None => tokio::time::sleep(Duration::from_secs(30)).await,
            }
            String::from_utf8_lossy(&got).to_string()
        });
        (format!("http://{addr}/hooks/T0/SECRET"), task)
    }

    #[tokio::test]
    async fn posts_json_and_accepts_2xx() {
        let (url, got) = receiver(Some(200)).await;
        let body = serde_json::json!({"text": "hello"});
        assert_eq!(post_json(&url, &body, Duration::from_secs(5)).await, Ok(()));
        let got = got.await.unwrap_or_default();
        assert!(got.starts_with("POST /hooks/T0/SECRET HTTP/1.1"), "{got}");
        assert!(got.contains("content-type: application/json"), "{got}");
        assert!(got.ends_with(r#"{"text":"hello"}"#), "{got}");
    }

    #[tokio::test]
    async fn errors_say_what_happened_without_the_url() {
        let (url, _got) = receiver(Some(500)).await;
        let body = serde_json::json!({});
        assert_eq!(
            post_json(&url, &body, Duration::from_secs(5)).await,
            Err(WebhookError::Status(500))
        );
        let (url, _got) = receiver(None).await;
        let slow = post_json(&url, &body, Duration::from_millis(300)).await;
        assert_eq!(slow, Err(WebhookError::Timeout(Duration::from_millis(300))));
        // Nothing listens on port 9 of loopback.
        let dead = "http://127.0.0.1:9/hooks/T0/SECRET";
        let err = post_json(dead, &body, Duration::from_secs(5)).await;
        let Err(WebhookError::Unreachable(m)) = &err else {
            panic!("unexpected {err:?}");
        };
        assert!(!m.contains("SECRET") && !m.contains("hooks"), "{m}");
        assert_eq!(
            post_json("not a url", &body, Duration::from_secs(1)).await,
            Err(WebhookError::InvalidUrl)
        );
    }

    #[test]
    fn scrub_removes_the_url_and_its_path() {
        let url = "https://hooks.example.com/services/T/B/SECRET";
        assert_eq!(
            scrub(&format!("failed for {url}"), url),
            "failed for <webhook>"
        );
        assert_eq!(
            scrub("GET /services/T/B/SECRET refused", url),
            "GET /<path> refused"
        );
    }
}
