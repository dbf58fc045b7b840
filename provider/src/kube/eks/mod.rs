//! EKS connection: how the provider reaches an EKS cluster without a kubeconfig.
//!
//! - [`describe`] calls EKS DescribeCluster (aws-sdk-eks) for the API endpoint, the cluster
//!   CA and the tags; the tag [`ENVIRONMENT_TAG`] feeds the environment guard.
//! - [`TokenSource`] makes bearer tokens exactly as `aws eks get-token` does (a presigned STS
//!   GetCallerIdentity URL carrying the `x-k8s-aws-id` header), caches them and makes a new
//!   one before the old one expires.
//! - [`connect`] does both; [`kube_config`] and [`kube_client`] turn the result into a
//!   `kube::Client` whose every request carries a fresh token ([`EksAuthLayer`]).
//!
//! AWS credentials come from the standard chain through `aws-config` (environment, profile,
//! SSO, web identity, container/instance metadata), optionally followed by an STS
//! AssumeRole. Nothing shells out to the aws CLI.

mod client;
mod describe;
mod token;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_eks::error::DisplayErrorContext;

pub use client::{EksAuthLayer, EksAuthService, kube_client, kube_client_with, kube_config};
pub use describe::{EksCluster, describe};
pub use token::{CLUSTER_ID_HEADER, DEFAULT_REFRESH_AFTER, TOKEN_PREFIX, TokenSource, sts_host};

/// The cluster tag that names the cluster's environment (dev, stg, prod, ...).
pub const ENVIRONMENT_TAG: &str = "jke/environment";

/// Session name used when `role_arn` is assumed; shows up in CloudTrail and in the
/// Kubernetes user name EKS derives from the assumed role.
const ASSUME_ROLE_SESSION_NAME: &str = "jke-terraform";

/// What the provider block's `eks = { ... }` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EksSettings {
    /// The EKS cluster's name (DescribeCluster's `name`, the token's `x-k8s-aws-id`).
    pub cluster_name: String,
    /// AWS region; when `None`, the standard chain decides (AWS_REGION, the profile's region).
    pub region: Option<String>,
    /// IAM role to assume (STS AssumeRole) with the chain's credentials before anything else.
    pub role_arn: Option<String>,
    /// Named profile from the shared AWS config/credentials files (like AWS_PROFILE).
    pub profile: Option<String>,
    /// Endpoint override for every AWS service called here (EKS, STS for AssumeRole), e.g. a
    /// local moto server. AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EKS and AWS_ENDPOINT_URL_STS are
    /// honoured through aws-config as usual. The token always names the real regional STS
    /// host, because that is what the cluster's authenticator accepts.
    pub endpoint_url: Option<String>,
}

impl EksSettings {
    /// Settings for `cluster_name` with everything else taken from the AWS chain.
    pub fn new(cluster_name: impl Into<String>) -> Self {
        Self {
            cluster_name: cluster_name.into(),
            ..Self::default()
        }
    }
}

/// A resolved EKS cluster plus the means to authenticate to it.
#[derive(Clone, Debug)]
pub struct EksConnection {
    pub cluster: EksCluster,
    pub tokens: TokenSource,
}

/// Everything that goes wrong between the provider settings and a usable cluster connection.
/// Each message names the cluster and says what to change.
#[derive(Debug, thiserror::Error)]
pub enum EksError {
    #[error("the eks block needs a cluster_name: set eks.cluster_name to the EKS cluster's name")]
    NoClusterName,

    #[error(
        "no AWS region for EKS cluster \"{cluster}\": set eks.region in the provider block, or \
         AWS_REGION, or a region in the AWS profile"
    )]
    NoRegion { cluster: String },

    #[error(
        "no AWS credentials found for EKS cluster \"{cluster}\" (region {region}): set \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile with eks.profile or \
         AWS_PROFILE (for an SSO profile run `aws sso login` first), or provide a web identity \
         (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE); the AWS chain said: {detail}"
    )]
    NoCredentials {
        cluster: String,
        region: String,
        detail: String,
    },

    #[error(
        "could not load AWS credentials for EKS cluster \"{cluster}\" (region {region}): \
         {detail}; check the AWS profile (eks.profile / AWS_PROFILE), renew an SSO session with \
         `aws sso login`, or check the web identity token file"
    )]
    CredentialsFailed {
        cluster: String,
        region: String,
        detail: String,
    },

    #[error(
        "could not assume role {role_arn} for EKS cluster \"{cluster}\": {detail}; check \
         eks.role_arn and that the base AWS credentials may call sts:AssumeRole on it"
    )]
    AssumeRoleFailed {
        cluster: String,
        role_arn: String,
        detail: String,
    },

    #[error(
        "EKS cluster \"{cluster}\" not found in region {region}: check eks.cluster_name and \
         eks.region, and that the AWS credentials belong to the cluster's account"
    )]
    ClusterNotFound { cluster: String, region: String },

    #[error(
        "not allowed to describe EKS cluster \"{cluster}\" in region {region}: grant \
         eks:DescribeCluster on it to the AWS identity in use (or set eks.role_arn to a role \
         that has it); AWS said: {detail}"
    )]
    AccessDenied {
        cluster: String,
        region: String,
        detail: String,
    },

    #[error(
        "AWS rejected the credentials used for EKS cluster \"{cluster}\" (region {region}): \
         {detail}; refresh them (new access keys, `aws sso login`) or pick another profile"
    )]
    CredentialsRejected {
        cluster: String,
        region: String,
        detail: String,
    },

    #[error(
        "could not reach the EKS API for cluster \"{cluster}\" in region {region}: {detail}; \
         check network access to AWS, or the endpoint override (eks.endpoint_url, \
         AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EKS)"
    )]
    Unreachable {
        cluster: String,
        region: String,
        detail: String,
    },

    #[error("DescribeCluster for EKS cluster \"{cluster}\" in region {region} failed: {detail}")]
    Api {
        cluster: String,
        region: String,
        detail: String,
    },

    #[error(
        "EKS cluster \"{cluster}\" in region {region} is {status}, not ACTIVE: wait until it is \
         ACTIVE (a FAILED cluster must be fixed or recreated) and run again"
    )]
    NotActive {
        cluster: String,
        region: String,
        status: String,
    },

    #[error("DescribeCluster returned no {field} for EKS cluster \"{cluster}\" in region {region}")]
    Incomplete {
        cluster: String,
        region: String,
        field: &'static str,
    },

    #[error("certificateAuthority.data of EKS cluster \"{cluster}\" is unusable: {detail}")]
    InvalidCa { cluster: String, detail: String },

    #[error("endpoint {endpoint:?} of EKS cluster \"{cluster}\" is not a valid URL: {detail}")]
    InvalidEndpoint {
        cluster: String,
        endpoint: String,
        detail: String,
    },

    #[error("could not sign the EKS token for cluster \"{cluster}\": {detail}")]
    Sign { cluster: String, detail: String },

    #[error("could not build the Kubernetes client for EKS cluster \"{cluster}\": {detail}")]
    Client { cluster: String, detail: String },
}

/// Resolves EKS cluster details and a token source from the provider settings.
///
/// Fails early, with a message that says what to fix, when the region or credentials are
/// missing, the cluster does not exist, or it is not ACTIVE (UPDATING clusters serve their
/// API and are accepted). A first token is made here so that signing problems show up now
/// rather than on the first Kubernetes request.
pub async fn connect(settings: &EksSettings) -> Result<EksConnection, EksError> {
    let aws = AwsContext::load(settings).await?;
    let cluster = describe::describe_with(&aws, &settings.cluster_name).await?;
    let tokens = TokenSource::new(
        settings.cluster_name.clone(),
        aws.region.clone(),
        aws.credentials.clone(),
    );
    tokens.token().await?;
    Ok(EksConnection { cluster, tokens })
}

/// The AWS side, resolved once per connection: SDK config (region, endpoint, HTTP client),
/// and the credentials provider (chain, optionally wrapped in AssumeRole).
pub(crate) struct AwsContext {
    pub(crate) sdk: SdkConfig,
    pub(crate) region: String,
    pub(crate) credentials: SharedCredentialsProvider,
}

impl AwsContext {
    pub(crate) async fn load(settings: &EksSettings) -> Result<Self, EksError> {
        let cluster = settings.cluster_name.trim();
        if cluster.is_empty() {
            return Err(EksError::NoClusterName);
        }
        let cluster = cluster.to_owned();

        // Same hyper 1 + rustls (ring) stack as kube and tonic; see Cargo.toml.
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();

        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client);
        if let Some(region) = non_empty(&settings.region) {
            loader = loader.region(Region::new(region.to_owned()));
        }
        if let Some(profile) = non_empty(&settings.profile) {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = non_empty(&settings.endpoint_url) {
            loader = loader.endpoint_url(endpoint);
        }
        let mut sdk = loader.load().await;

        let region = match sdk.region() {
            Some(region) => region.as_ref().to_owned(),
            None => return Err(EksError::NoRegion { cluster }),
        };
        let no_credentials = || EksError::NoCredentials {
            cluster: cluster.clone(),
            region: region.clone(),
            detail: "no credentials provider in the AWS configuration".to_owned(),
        };
        let mut credentials = sdk.credentials_provider().ok_or_else(no_credentials)?;

        // Resolve the base credentials once now, so that "none at all" and "SSO session
        // expired" get their own messages instead of surfacing as an opaque API failure.
        check_credentials(&credentials, &cluster, &region).await?;

        if let Some(role_arn) = non_empty(&settings.role_arn) {
            tracing::debug!(cluster = %cluster, role_arn, "assuming role for EKS");
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name(ASSUME_ROLE_SESSION_NAME)
                .configure(&sdk)
                .build()
                .await;
            credentials = SharedCredentialsProvider::new(provider);
            if let Err(err) = credentials.provide_credentials().await {
                return Err(EksError::AssumeRoleFailed {
                    cluster,
                    role_arn: role_arn.to_owned(),
                    detail: DisplayErrorContext(&err).to_string(),
                });
            }
            sdk = sdk
                .into_builder()
                .credentials_provider(credentials.clone())
                .build();
        }

        Ok(Self {
            sdk,
            region,
            credentials,
        })
    }
}

async fn check_credentials(
    provider: &SharedCredentialsProvider,
    cluster: &str,
    region: &str,
) -> Result<(), EksError> {
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(err) => Err(credentials_error(&err, cluster, region)),
    }
}

/// "None configured" and "configured but failing" need different advice.
pub(crate) fn credentials_error(err: &CredentialsError, cluster: &str, region: &str) -> EksError {
    let detail = DisplayErrorContext(err).to_string();
    let (cluster, region) = (cluster.to_owned(), region.to_owned());
    match err {
        CredentialsError::CredentialsNotLoaded(_) => EksError::NoCredentials {
            cluster,
            region,
            detail,
        },
        _ => EksError::CredentialsFailed {
            cluster,
            region,
            detail,
        },
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cluster_and_what_to_change() {
        let not_found = EksError::ClusterNotFound {
            cluster: "apps-dev".into(),
            region: "eu-west-1".into(),
        }
        .to_string();
        assert!(not_found.contains("\"apps-dev\""), "{not_found}");
        assert!(not_found.contains("eu-west-1"), "{not_found}");
        assert!(not_found.contains("eks.cluster_name"), "{not_found}");

        let no_creds = EksError::NoCredentials {
            cluster: "apps-dev".into(),
            region: "eu-west-1".into(),
            detail: "nothing".into(),
        }
        .to_string();
        assert!(no_creds.contains("AWS_ACCESS_KEY_ID"), "{no_creds}");
        assert!(no_creds.contains("eks.profile"), "{no_creds}");

        let not_active = EksError::NotActive {
            cluster: "apps-dev".into(),
            region: "eu-west-1".into(),
            status: "CREATING".into(),
        }
        .to_string();
        assert!(
            not_active.contains("is CREATING, not ACTIVE"),
            "{not_active}"
        );
    }

    #[test]
    fn blank_settings_count_as_unset() {
        assert_eq!(non_empty(&Some("  ".into())), None);
        assert_eq!(non_empty(&None), None);
        assert_eq!(non_empty(&Some(" eu-west-1 ".into())), Some("eu-west-1"));
    }

    #[tokio::test]
    async fn empty_cluster_name_is_refused_before_any_aws_call() {
        let err = match AwsContext::load(&EksSettings::new(" ")).await {
            Ok(_) => panic!("an empty cluster name must be refused"),
            Err(err) => err,
        };
        assert!(matches!(err, EksError::NoClusterName), "{err}");
    }
}
