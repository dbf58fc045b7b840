//! EKS bearer tokens, made the way `aws eks get-token` and aws-iam-authenticator make them.
//!
//! A token is `k8s-aws-v1.` followed by the unpadded base64url encoding of a presigned STS
//! URL: `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`
//! signed with SigV4 in the query string (`X-Amz-Expires=60`), where the signed headers
//! include `x-k8s-aws-id: <cluster name>`. The cluster's authenticator replays the URL to
//! STS, adding that header, and learns who signed it. STS accepts such a URL for 15 minutes
//! after its `X-Amz-Date` whatever `X-Amz-Expires` says, so tokens are remade well before.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::Mutex;

use super::{EksError, credentials_error};

/// Prefix of every EKS bearer token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// Header that binds a token to one cluster; it is part of the signature.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// The presign expiry written into the URL. STS ignores it for GetCallerIdentity (the
/// authenticator allows 15 minutes); 60 is what every EKS token generator writes.
const PRESIGN_EXPIRES: Duration = Duration::from_secs(60);
/// How long a cached token is used before a new one is made. Tokens are good for about
/// 15 minutes on the server side; 10 leaves room for long requests and clock skew.
pub const DEFAULT_REFRESH_AFTER: Duration = Duration::from_secs(10 * 60);
/// Temporary credentials must outlive the token by this much, or the token is remade.
const CREDENTIALS_MARGIN: Duration = Duration::from_secs(60);

const STS_API_VERSION: &str = "2011-06-15";
/// SigV4 query encoding: everything but the unreserved characters is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The regional STS host the cluster's authenticator accepts for `region`.
pub fn sts_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("sts.{region}.amazonaws.com.cn")
    } else {
        format!("sts.{region}.amazonaws.com")
    }
}

/// Makes one token for `cluster_name`, signed for `region` at `now` with `credentials`.
pub(crate) fn presign_token(
    cluster_name: &str,
    region: &str,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<String, EksError> {
    let sign_error = |detail: String| EksError::Sign {
        cluster: cluster_name.to_owned(),
        detail,
    };
    let host = sts_host(region);
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version={STS_API_VERSION}");

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRES);
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|err| sign_error(err.to_string()))?
        .into();
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::once((CLUSTER_ID_HEADER, cluster_name)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|err| sign_error(err.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|err| sign_error(err.to_string()))?
        .into_parts();

    // Same parameter order as the aws CLI (botocore): the signer's order, signature last.
    let mut query: Vec<(&str, &str)> = vec![
        ("Action", "GetCallerIdentity"),
        ("Version", STS_API_VERSION),
    ];
    query.extend(instructions.params().iter().map(|(k, v)| (*k, v.as_ref())));
    query.sort_by_key(|(k, _)| *k == "X-Amz-Signature");
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE)))
        .collect::<Vec<_>>()
        .join("&");
    let presigned = format!("https://{host}/?{query}");

    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned)
    ))
}

/// Bearer tokens for one EKS cluster: cached, and remade before they expire.
///
/// Cheap to clone; clones share the cache, so one source can serve every task and every
/// `kube::Client` built from a connection. Concurrent callers that find the cache stale wait
/// for one refresh rather than each signing their own.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    cluster_name: String,
    region: String,
    credentials: SharedCredentialsProvider,
    refresh_after: Duration,
    cached: Mutex<Option<Cached>>,
    /// Set by [`TokenSource::invalidate`] (e.g. after a 401): the next call makes a new token.
    stale: AtomicBool,
}

struct Cached {
    token: String,
    refresh_at: Instant,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token itself.
        f.debug_struct("TokenSource")
            .field("cluster_name", &self.inner.cluster_name)
            .field("region", &self.inner.region)
            .field("refresh_after", &self.inner.refresh_after)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source for `cluster_name` in `region` signing with `credentials`, which are
    /// resolved again for every new token (so rotating or temporary credentials are followed).
    pub fn new(
        cluster_name: impl Into<String>,
        region: impl Into<String>,
        credentials: SharedCredentialsProvider,
    ) -> Self {
        Self::with_refresh_after(cluster_name, region, credentials, DEFAULT_REFRESH_AFTER)
    }

    /// Like [`TokenSource::new`] with another cache lifetime (tests, or stricter policies).
    pub fn with_refresh_after(
        cluster_name: impl Into<String>,
        region: impl Into<String>,
        credentials: SharedCredentialsProvider,
        refresh_after: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                cluster_name: cluster_name.into(),
                region: region.into(),
                credentials,
                refresh_after,
                cached: Mutex::new(None),
                stale: AtomicBool::new(false),
            }),
        }
    }

    pub fn cluster_name(&self) -> &str {
        &self.inner.cluster_name
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// A valid token: the cached one while it is fresh, otherwise a new one.
    pub async fn token(&self) -> Result<String, EksError> {
        let mut cached = self.inner.cached.lock().await;
        let stale = self.inner.stale.swap(false, Ordering::AcqRel);
        if !stale
            && let Some(c) = cached.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let fresh = self.mint().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Makes and caches a new token now, whatever the cache holds.
    pub async fn refresh(&self) -> Result<String, EksError> {
        let mut cached = self.inner.cached.lock().await;
        self.inner.stale.store(false, Ordering::Release);
        let fresh = self.mint().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Marks the cached token as unusable (for example after the API server answered 401);
    /// the next [`TokenSource::token`] makes a new one.
    pub fn invalidate(&self) {
        self.inner.stale.store(true, Ordering::Release);
    }

    async fn mint(&self) -> Result<Cached, EksError> {
        let inner = &self.inner;
        let credentials = inner
            .credentials
            .provide_credentials()
            .await
            .map_err(|err| credentials_error(&err, &inner.cluster_name, &inner.region))?;
        let now = SystemTime::now();
        let token = presign_token(&inner.cluster_name, &inner.region, &credentials, now)?;
        let mut lifetime = inner.refresh_after;
        if let Some(expiry) = credentials.expiry() {
            let left = expiry
                .duration_since(now)
                .unwrap_or_default()
                .saturating_sub(CREDENTIALS_MARGIN);
            lifetime = lifetime.min(left);
        }
        tracing::debug!(
            cluster = %inner.cluster_name,
            region = %inner.region,
            valid_for_s = lifetime.as_secs(),
            "made a new EKS token"
        );
        Ok(Cached {
            token,
            refresh_at: Instant::now() + lifetime,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::AtomicUsize;

    use aws_credential_types::provider::future;
    use aws_sdk_eks::primitives::{DateTime, DateTimeFormat};

    use super::*;

    const ACCESS_KEY: &str = "AKIDJKETESTEXAMPLE";
    const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYJKETESTKEY";

    fn static_credentials(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            ACCESS_KEY,
            SECRET_KEY,
            session_token.map(str::to_owned),
            None,
            "jke-unit-test",
        )
    }

    /// What an authenticator sees when it decodes a token.
    struct Decoded {
        url: String,
        scheme: String,
        host: String,
        path: String,
        params: BTreeMap<String, String>,
        keys_in_order: Vec<String>,
    }

    fn decode(token: &str) -> Decoded {
        let body = token
            .strip_prefix(TOKEN_PREFIX)
            .unwrap_or_else(|| panic!("token lacks the {TOKEN_PREFIX} prefix: {token}"));
        assert!(!body.contains('='), "token must be unpadded base64url");
        assert!(
            !body.contains('+') && !body.contains('/'),
            "token must use the URL-safe alphabet"
        );
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body)
                .expect("token body is base64url"),
        )
        .expect("decoded token is UTF-8");
        let uri: http::Uri = url.parse().expect("decoded token is a URL");
        let query = uri.query().expect("URL has a query").to_owned();
        let mut params = BTreeMap::new();
        let mut keys_in_order = Vec::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            keys_in_order.push(k.to_string());
            assert!(
                params.insert(k.to_string(), v.to_string()).is_none(),
                "duplicate query parameter {k}"
            );
        }
        Decoded {
            scheme: uri.scheme_str().unwrap_or_default().to_owned(),
            host: uri.host().unwrap_or_default().to_owned(),
            path: uri.path().to_owned(),
            url,
            params,
            keys_in_order,
        }
    }

    fn amz_date_secs(amz_date: &str) -> i64 {
        // 20240102T030405Z -> 2024-01-02T03:04:05Z
        assert_eq!(amz_date.len(), 16, "X-Amz-Date format: {amz_date}");
        let b = amz_date.as_bytes();
        assert_eq!((b[8], b[15]), (b'T', b'Z'), "X-Amz-Date format: {amz_date}");
        let rfc3339 = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &amz_date[0..4],
            &amz_date[4..6],
            &amz_date[6..8],
            &amz_date[9..11],
            &amz_date[11..13],
            &amz_date[13..15]
        );
        DateTime::from_str(&rfc3339, DateTimeFormat::DateTime)
            .expect("X-Amz-Date parses")
            .secs()
    }

    fn unix_secs(t: SystemTime) -> i64 {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs() as i64
    }

    /// Every check the brief and aws-iam-authenticator's verifier make on a token.
    fn assert_token_shape(token: &str, cluster: &str, region: &str, now: SystemTime) -> Decoded {
        assert!(
            token.len() <= 4096,
            "authenticators refuse tokens over 4 KiB"
        );
        let d = decode(token);
        assert_eq!(d.scheme, "https", "{}", d.url);
        assert_eq!(d.host, format!("sts.{region}.amazonaws.com"), "{}", d.url);
        assert_eq!(d.path, "/", "{}", d.url);
        let p = &d.params;
        assert_eq!(p["Action"], "GetCallerIdentity");
        assert_eq!(p["Version"], "2011-06-15");
        assert_eq!(p["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(p["X-Amz-Expires"], "60");
        let signed: Vec<&str> = p["X-Amz-SignedHeaders"].split(';').collect();
        assert!(signed.contains(&"host"), "signed headers: {signed:?}");
        assert!(
            signed.contains(&CLUSTER_ID_HEADER),
            "signed headers: {signed:?}"
        );
        assert_eq!(p["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
        let credential = &p["X-Amz-Credential"];
        let scope: Vec<&str> = credential.split('/').collect();
        assert_eq!(scope.len(), 5, "credential scope: {credential}");
        assert_eq!(scope[0], ACCESS_KEY);
        assert_eq!(scope[2], region);
        assert!(credential.ends_with("/sts/aws4_request"), "{credential}");
        let date = &p["X-Amz-Date"];
        assert_eq!(&scope[1], &&date[..8], "scope date is the signing date");
        let skew = (amz_date_secs(date) - unix_secs(now)).abs();
        assert!(skew <= 1, "X-Amz-Date {date} is not the signing time");
        let signature = &p["X-Amz-Signature"];
        assert_eq!(signature.len(), 64, "hex SHA-256 signature: {signature}");
        assert!(signature.bytes().all(|c| c.is_ascii_hexdigit()));
        // aws-iam-authenticator refuses any parameter outside this set.
        const ALLOWED: [&str; 9] = [
            "action",
            "version",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-expires",
            "x-amz-security-token",
            "x-amz-signature",
            "x-amz-signedheaders",
        ];
        for key in &d.keys_in_order {
            assert!(
                ALLOWED.contains(&key.to_ascii_lowercase().as_str()),
                "unexpected query parameter {key}"
            );
        }
        assert!(
            !d.url.contains(cluster),
            "the cluster name travels in the signed header, not the URL"
        );
        d
    }

    #[test]
    fn token_is_a_presigned_get_caller_identity_url() {
        let now = SystemTime::now();
        let token =
            presign_token("apps-dev", "eu-west-1", &static_credentials(None), now).expect("signs");
        let d = assert_token_shape(&token, "apps-dev", "eu-west-1", now);
        assert!(!d.params.contains_key("X-Amz-Security-Token"));
        assert_eq!(&d.keys_in_order[..2], ["Action", "Version"]);
    }

    #[test]
    fn session_tokens_travel_in_the_signed_url() {
        let session = "FwoGZXIvYXdzEJr//////////wEaDOnMHQ/+session+token==";
        let now = SystemTime::now();
        let token = presign_token(
            "apps-dev",
            "us-east-1",
            &static_credentials(Some(session)),
            now,
        )
        .expect("signs");
        let d = assert_token_shape(&token, "apps-dev", "us-east-1", now);
        assert_eq!(d.params["X-Amz-Security-Token"], session);
    }

    #[test]
    fn signing_is_deterministic_and_bound_to_cluster_and_time() {
        let creds = static_credentials(None);
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = presign_token("apps-dev", "eu-west-1", &creds, t).expect("signs");
        let b = presign_token("apps-dev", "eu-west-1", &creds, t).expect("signs");
        assert_eq!(a, b);
        assert_token_shape(&a, "apps-dev", "eu-west-1", t);
        assert_eq!(decode(&a).params["X-Amz-Date"], "20231114T221320Z");

        let other_cluster = presign_token("apps-prod", "eu-west-1", &creds, t).expect("signs");
        assert_ne!(
            decode(&a).params["X-Amz-Signature"],
            decode(&other_cluster).params["X-Amz-Signature"],
            "the cluster name is part of the signature"
        );
        let later = presign_token("apps-dev", "eu-west-1", &creds, t + Duration::from_secs(1))
            .expect("signs");
        assert_ne!(a, later);
    }

    /// Made by the aws CLI's signer (botocore) for the same inputs, with
    /// `tests/support/botocore_eks_token.py apps-dev eu-west-1 1700000000 [SESSION]`.
    const BOTOCORE_URL: &str = "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDJKETESTEXAMPLE%2F20231114%2Feu-west-1%2Fsts%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=3db069531f365ca413a99c08a321ff61c04b3f344aaf4947823507bfacc4ea4d";
    const BOTOCORE_SESSION: &str = "FwoGZXIvYXdzEJr//////////wEaDOnMHQ/+session+token==";
    const BOTOCORE_URL_WITH_SESSION: &str = "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDJKETESTEXAMPLE%2F20231114%2Feu-west-1%2Fsts%2Faws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEaDOnMHQ%2F%2Bsession%2Btoken%3D%3D&X-Amz-Signature=7c4e06306be7f878c015eff655b945ee7df6f6427e47d3cea674a1ef45e7bd8a";

    #[test]
    fn tokens_match_the_aws_cli_byte_for_byte() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token =
            presign_token("apps-dev", "eu-west-1", &static_credentials(None), t).expect("signs");
        assert_eq!(decode(&token).url, BOTOCORE_URL);
        let expected = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(BOTOCORE_URL)
        );
        assert_eq!(token, expected);

        let creds = static_credentials(Some(BOTOCORE_SESSION));
        let token = presign_token("apps-dev", "eu-west-1", &creds, t).expect("signs");
        assert_eq!(decode(&token).url, BOTOCORE_URL_WITH_SESSION);
    }

    #[test]
    fn china_regions_use_their_partition_host() {
        assert_eq!(sts_host("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(sts_host("eu-west-1"), "sts.eu-west-1.amazonaws.com");
    }

    /// Credentials provider that counts how often it is asked.
    #[derive(Debug, Clone)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        expiry: Option<SystemTime>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.calls.fetch_add(1, Ordering::SeqCst);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                ACCESS_KEY,
                SECRET_KEY,
                None,
                self.expiry,
                "counting",
            )))
        }
    }

    fn counting_source(
        refresh_after: Duration,
        expiry: Option<SystemTime>,
    ) -> (TokenSource, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = Counting {
            calls: calls.clone(),
            expiry,
        };
        let source = TokenSource::with_refresh_after(
            "apps-dev",
            "eu-west-1",
            SharedCredentialsProvider::new(provider),
            refresh_after,
        );
        (source, calls)
    }

    #[tokio::test]
    async fn token_source_caches_until_refresh_is_due() {
        let (source, calls) = counting_source(DEFAULT_REFRESH_AFTER, None);
        let first = source.token().await.expect("token");
        assert_token_shape(&first, "apps-dev", "eu-west-1", SystemTime::now());
        let second = source.token().await.expect("token");
        assert_eq!(first, second, "cached");
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Forced refresh and invalidation both make new tokens.
        source.refresh().await.expect("refresh");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        source.invalidate();
        source.token().await.expect("token");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        source.token().await.expect("token");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "cached again after invalidation"
        );
    }

    #[tokio::test]
    async fn token_source_remakes_tokens_once_they_are_old() {
        let (source, calls) = counting_source(Duration::ZERO, None);
        source.token().await.expect("token");
        source.token().await.expect("token");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "refresh_after 0 never caches"
        );
    }

    #[tokio::test]
    async fn expiring_credentials_shorten_the_cache() {
        // Credentials that expire within the margin: every call signs with fresh ones.
        let soon = SystemTime::now() + Duration::from_secs(30);
        let (source, calls) = counting_source(DEFAULT_REFRESH_AFTER, Some(soon));
        source.token().await.expect("token");
        source.token().await.expect("token");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let later = SystemTime::now() + Duration::from_secs(3600);
        let (source, calls) = counting_source(DEFAULT_REFRESH_AFTER, Some(later));
        source.token().await.expect("token");
        source.token().await.expect("token");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_tasks_share_one_refresh() {
        let (source, calls) = counting_source(DEFAULT_REFRESH_AFTER, None);
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let source = source.clone();
                tokio::spawn(async move { source.token().await })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            tokens.push(task.await.expect("task").expect("token"));
        }
        assert!(tokens.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn debug_output_hides_the_token() {
        let (source, _) = counting_source(DEFAULT_REFRESH_AFTER, None);
        let shown = format!("{source:?}");
        assert!(
            shown.contains("apps-dev") && !shown.contains(TOKEN_PREFIX),
            "{shown}"
        );
    }
}
