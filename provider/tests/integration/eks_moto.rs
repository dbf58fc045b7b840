//! The EKS connection against a real moto server (EKS and STS on loopback).
//!
//! The test starts `moto_server` itself on 127.0.0.1 with a free port and stops it at the
//! end, also on failure. It looks for the binary in `JKE_MOTO_SERVER`, then in the repo's
//! `.venv/bin/moto_server` (tests/setup installs it there), and fails with a clear message
//! when neither exists.
//!
//! The AWS credential chain reads the process environment, so this module holds a single test
//! that changes the environment only between phases, while no runtime or other thread of
//! its own is alive. Keep it that way: add phases, not test functions. The integration binary
//! runs other tests on other threads, so the test re-runs itself alone in a child process of
//! the same binary (one test, one thread) and changes the environment only there.

use std::collections::BTreeMap;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_eks::config::{BehaviorVersion, Region};
use aws_sdk_eks::primitives::{DateTime, DateTimeFormat};
use aws_sdk_eks::types::VpcConfigRequest;
use base64::Engine as _;
use terraform_provider_jke::kube::eks::{
    self, CLUSTER_ID_HEADER, ENVIRONMENT_TAG, EksError, EksSettings, TOKEN_PREFIX,
};

const ROLE_FOR_CLUSTER: &str = "arn:aws:iam::123456789012:role/jke-eks-cluster";
const ROLE_TO_ASSUME: &str = "arn:aws:iam::123456789012:role/jke-deployer";

/// A running moto server; killed (and its scratch folder removed) when dropped.
struct Moto {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Moto {
    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("moto.log")).unwrap_or_default()
    }
}

fn moto_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("JKE_MOTO_SERVER") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "JKE_MOTO_SERVER={} is not a file; point it at moto_server or unset it",
            path.display()
        );
        return path;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    assert!(
        path.is_file(),
        "moto_server not found at {}: run tests/setup (it installs moto[server] into .venv), \
         or set JKE_MOTO_SERVER to a moto_server binary",
        path.display()
    );
    path
}

fn start_moto() -> Moto {
    let binary = moto_server_binary();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let dir = std::env::temp_dir().join(format!("jke-eks-moto-{}-{port}", std::process::id()));
    fs::create_dir_all(&dir).expect("scratch folder");
    let log = fs::File::create(dir.join("moto.log")).expect("moto log file");
    let log_err = log.try_clone().expect("moto log file");
    let child = Command::new(&binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
    let mut moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = moto.child.try_wait() {
            panic!("moto_server exited early ({status}):\n{}", moto.log());
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return moto;
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on port {port} within 60 s:\n{}",
            moto.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Sets the AWS environment for the next phase.
///
/// SAFETY (for the `unsafe` env calls): called only between phases, when this test has no
/// runtime and no thread of its own running, in a child process that runs this test alone.
fn set_aws_env(vars: &[(&str, Option<&str>)]) {
    for (name, value) in vars {
        match value {
            // SAFETY: see above.
            Some(value) => unsafe { std::env::set_var(name, value) },
            // SAFETY: see above.
            None => unsafe { std::env::remove_var(name) },
        }
    }
}

/// An AWS environment with nothing from the machine or user: no credentials, no region,
/// no profile, no endpoint overrides, no instance metadata, and config files of our own.
fn clean_aws_env(dir: &Path) {
    let config = dir.join("aws-config");
    fs::write(
        &config,
        "[profile jke-us]\nregion = us-east-1\n\n[profile jke-empty]\noutput = json\n",
    )
    .expect("aws config file");
    let credentials = dir.join("aws-credentials");
    fs::write(&credentials, "").expect("aws credentials file");
    let config = config.to_string_lossy().into_owned();
    let credentials = credentials.to_string_lossy().into_owned();
    let mut vars: Vec<(&str, Option<&str>)> = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_STS",
    ]
    .into_iter()
    .map(|name| (name, None))
    .collect();
    vars.push(("AWS_CONFIG_FILE", Some(config.as_str())));
    vars.push(("AWS_SHARED_CREDENTIALS_FILE", Some(credentials.as_str())));
    vars.push(("AWS_EC2_METADATA_DISABLED", Some("true")));
    set_aws_env(&vars);
}

const STATIC_CREDENTIALS: [(&str, Option<&str>); 2] = [
    ("AWS_ACCESS_KEY_ID", Some("testing")),
    ("AWS_SECRET_ACCESS_KEY", Some("testing")),
];

/// The test's own EKS client for moto, independent of the code under test.
fn moto_eks(moto: &Moto, region: &str) -> aws_sdk_eks::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_sdk_eks::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(&moto.url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .http_client(http)
        .build();
    aws_sdk_eks::Client::from_conf(config)
}

/// Creates a cluster in moto and returns (endpoint, certificateAuthority.data) as moto has them.
async fn create_cluster(
    moto: &Moto,
    region: &str,
    name: &str,
    environment: &str,
) -> (String, String) {
    let eks = moto_eks(moto, region);
    eks.create_cluster()
        .name(name)
        .role_arn(ROLE_FOR_CLUSTER)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids("subnet-0a1b2c3d")
                .subnet_ids("subnet-4e5f6a7b")
                .build(),
        )
        .tags(ENVIRONMENT_TAG, environment)
        .tags("team", "platform")
        .send()
        .await
        .unwrap_or_else(|err| panic!("moto create_cluster {name}: {err:?}\n{}", moto.log()));
    let described = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .unwrap_or_else(|err| panic!("moto describe_cluster {name}: {err:?}"));
    let cluster = described.cluster().expect("moto returns the cluster");
    (
        cluster
            .endpoint()
            .expect("moto sets an endpoint")
            .to_owned(),
        cluster
            .certificate_authority()
            .and_then(|ca| ca.data())
            .expect("moto sets a CA")
            .to_owned(),
    )
}

fn settings(moto: &Moto, name: &str) -> EksSettings {
    EksSettings {
        endpoint_url: Some(moto.url.clone()),
        ..EksSettings::new(name)
    }
}

/// What an authenticator sees in a token: host and query parameters.
fn decode_token(token: &str) -> (String, BTreeMap<String, String>) {
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .unwrap_or_else(|| panic!("token lacks {TOKEN_PREFIX}: {token}"));
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .expect("token is unpadded base64url");
    let url = String::from_utf8(url).expect("token URL is UTF-8");
    let uri: http::Uri = url.parse().expect("token is a URL");
    assert_eq!(uri.scheme_str(), Some("https"), "{url}");
    assert_eq!(uri.path(), "/", "{url}");
    let params = form_urlencoded::parse(uri.query().expect("query").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    (uri.host().expect("host").to_owned(), params)
}

fn assert_token(token: &str, region: &str, access_key: &str) -> BTreeMap<String, String> {
    let (host, p) = decode_token(token);
    assert_eq!(host, format!("sts.{region}.amazonaws.com"));
    assert_eq!(p["Action"], "GetCallerIdentity");
    assert_eq!(p["Version"], "2011-06-15");
    assert_eq!(p["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(p["X-Amz-Expires"], "60");
    assert_eq!(
        p["X-Amz-SignedHeaders"],
        format!("host;{CLUSTER_ID_HEADER}")
    );
    let credential = &p["X-Amz-Credential"];
    assert!(
        credential.starts_with(&format!("{access_key}/"))
            && credential.ends_with(&format!("/{region}/sts/aws4_request")),
        "X-Amz-Credential {credential}"
    );
    let date = &p["X-Amz-Date"];
    assert!(date.len() == 16 && date.ends_with('Z'), "X-Amz-Date {date}");
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    );
    let signed_at = DateTime::from_str(&rfc3339, DateTimeFormat::DateTime)
        .unwrap_or_else(|err| panic!("X-Amz-Date {date}: {err}"));
    let age = DateTime::from(SystemTime::now()).secs() - signed_at.secs();
    assert!((0..300).contains(&age), "X-Amz-Date {date} is not now-ish");
    p
}

/// Set in the child process that runs the phases (see the module comment).
const CHILD: &str = "JKE_EKS_MOTO_CHILD";

#[test]
fn eks_connection_against_moto() {
    if std::env::var_os(CHILD).is_none() {
        let exe = std::env::current_exe().expect("the test binary's path");
        let status = Command::new(exe)
            .args([
                "eks_moto::eks_connection_against_moto",
                "--exact",
                "--test-threads=1",
                "--nocapture",
                "--include-ignored",
            ])
            .env(CHILD, "1")
            .status()
            .expect("run the test binary again");
        assert!(
            status.success(),
            "the EKS/moto phases failed (their output is above)"
        );
        return;
    }
    let moto = start_moto();

    // Phase 1: no credentials anywhere.
    clean_aws_env(&moto.dir);
    let err = runtime()
        .block_on(eks::connect(&EksSettings {
            region: Some("eu-west-1".into()),
            ..settings(&moto, "apps-dev")
        }))
        .expect_err("no credentials");
    assert!(matches!(err, EksError::NoCredentials { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("\"apps-dev\"") && message.contains("AWS_ACCESS_KEY_ID"));

    // Phase 2: static credentials in the environment, as CI and most users have them.
    set_aws_env(&STATIC_CREDENTIALS);
    let rt = runtime();
    let (endpoint, ca_data) = rt.block_on(create_cluster(&moto, "eu-west-1", "apps-dev", "dev"));
    let (prod_endpoint, _) = rt.block_on(create_cluster(&moto, "us-east-1", "apps-prod", "prod"));

    // No region from settings, environment or profile.
    let err = rt
        .block_on(eks::connect(&settings(&moto, "apps-dev")))
        .expect_err("no region");
    assert!(matches!(err, EksError::NoRegion { .. }), "{err}");
    assert!(err.to_string().contains("eks.region"), "{err}");

    // The cluster resolves: endpoint, CA, tags, environment, status, and a token.
    let dev = EksSettings {
        region: Some("eu-west-1".into()),
        ..settings(&moto, "apps-dev")
    };
    let conn = rt
        .block_on(eks::connect(&dev))
        .expect("connect to apps-dev");
    assert_eq!(conn.cluster.name, "apps-dev");
    assert_eq!(conn.cluster.region, "eu-west-1");
    assert_eq!(conn.cluster.endpoint, endpoint);
    assert_eq!(
        conn.cluster.ca_pem,
        base64::engine::general_purpose::STANDARD
            .decode(&ca_data)
            .expect("moto's CA data is base64")
    );
    assert_eq!(conn.cluster.environment.as_deref(), Some("dev"));
    assert_eq!(
        conn.cluster.tags.get("team").map(String::as_str),
        Some("platform")
    );
    assert_eq!(conn.cluster.status, "ACTIVE");
    let token = rt.block_on(conn.tokens.token()).expect("token");
    let params = assert_token(&token, "eu-west-1", "testing");
    assert!(!params.contains_key("X-Amz-Security-Token"));
    assert_eq!(
        rt.block_on(conn.tokens.token()).expect("token"),
        token,
        "cached"
    );

    // The client configuration: moto's CA is random text, not a certificate, and that is
    // reported as such instead of failing later in a TLS handshake.
    let err = eks::kube_config(&conn).expect_err("moto's CA is no PEM certificate");
    assert!(
        matches!(err, EksError::InvalidCa { .. }) && err.to_string().contains("apps-dev"),
        "{err}"
    );

    // describe() alone gives the same cluster.
    let described = rt.block_on(eks::describe(&dev)).expect("describe");
    assert_eq!(described, conn.cluster);

    // A wrong cluster name names itself and the region.
    let err = rt
        .block_on(eks::connect(&EksSettings {
            region: Some("eu-west-1".into()),
            ..settings(&moto, "apps-typo")
        }))
        .expect_err("no such cluster");
    assert!(matches!(err, EksError::ClusterNotFound { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("\"apps-typo\"") && message.contains("eu-west-1"),
        "{message}"
    );
    // The right name in the wrong region is just as absent.
    let err = rt
        .block_on(eks::connect(&EksSettings {
            region: Some("eu-west-1".into()),
            ..settings(&moto, "apps-prod")
        }))
        .expect_err("apps-prod lives in us-east-1");
    assert!(matches!(err, EksError::ClusterNotFound { .. }), "{err}");

    // A profile supplies the region.
    let conn = rt
        .block_on(eks::connect(&EksSettings {
            profile: Some("jke-us".into()),
            ..settings(&moto, "apps-prod")
        }))
        .expect("connect through profile jke-us");
    assert_eq!(conn.cluster.region, "us-east-1");
    assert_eq!(conn.cluster.endpoint, prod_endpoint);
    assert_eq!(conn.cluster.environment.as_deref(), Some("prod"));
    assert_token(
        &rt.block_on(conn.tokens.token()).expect("token"),
        "us-east-1",
        "testing",
    );

    // role_arn: STS AssumeRole (moto) gives temporary credentials that sign the token.
    let conn = rt
        .block_on(eks::connect(&EksSettings {
            role_arn: Some(ROLE_TO_ASSUME.into()),
            ..dev.clone()
        }))
        .expect("connect with role_arn");
    assert_eq!(conn.cluster.environment.as_deref(), Some("dev"));
    let token = rt.block_on(conn.tokens.token()).expect("token");
    let (_, params) = decode_token(&token);
    let access_key = params["X-Amz-Credential"]
        .split('/')
        .next()
        .expect("access key")
        .to_owned();
    assert_ne!(access_key, "testing", "signed with the assumed role's keys");
    let params = assert_token(&token, "eu-west-1", &access_key);
    assert!(
        params
            .get("X-Amz-Security-Token")
            .is_some_and(|t| !t.is_empty()),
        "temporary credentials carry a session token"
    );
    drop(rt);

    // Phase 3: endpoints from AWS_ENDPOINT_URL_EKS / _STS instead of the settings.
    set_aws_env(&[
        ("AWS_ENDPOINT_URL_EKS", Some(moto.url.as_str())),
        ("AWS_ENDPOINT_URL_STS", Some(moto.url.as_str())),
        ("AWS_REGION", Some("eu-west-1")),
    ]);
    let rt = runtime();
    let conn = rt
        .block_on(eks::connect(&EksSettings {
            role_arn: Some(ROLE_TO_ASSUME.into()),
            ..EksSettings::new("apps-dev")
        }))
        .expect("connect with endpoints from the environment");
    assert_eq!(conn.cluster.endpoint, endpoint);
    assert_eq!(conn.cluster.region, "eu-west-1");
    drop(rt);
    drop(moto);
}
