//! EKS DescribeCluster: the cluster's API endpoint, CA certificate, tags and status.

use std::collections::BTreeMap;

use aws_sdk_eks::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_eks::operation::describe_cluster::DescribeClusterError;
use aws_sdk_eks::types::{Cluster, ClusterStatus};
use base64::Engine as _;

use super::{AwsContext, ENVIRONMENT_TAG, EksError, EksSettings};

/// What the provider needs to know about an EKS cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EksCluster {
    pub name: String,
    /// The region the cluster was looked up in.
    pub region: String,
    pub arn: Option<String>,
    /// Kubernetes API server URL, e.g. `https://ABC123.gr7.eu-west-1.eks.amazonaws.com`.
    pub endpoint: String,
    /// The cluster CA certificate(s), PEM, decoded from `certificateAuthority.data`.
    pub ca_pem: Vec<u8>,
    pub tags: BTreeMap<String, String>,
    /// The value of the [`ENVIRONMENT_TAG`] tag, if the cluster has it.
    pub environment: Option<String>,
    /// `ACTIVE` or `UPDATING` (other states are refused by [`describe`]).
    pub status: String,
    /// Kubernetes version, e.g. `1.33`.
    pub version: Option<String>,
}

/// Looks the cluster up with EKS DescribeCluster, using the settings' credentials and region.
///
/// Refuses clusters that cannot serve their API (CREATING, DELETING, FAILED, PENDING); an
/// UPDATING cluster keeps serving and is accepted.
pub async fn describe(settings: &EksSettings) -> Result<EksCluster, EksError> {
    let aws = AwsContext::load(settings).await?;
    describe_with(&aws, &settings.cluster_name).await
}

pub(super) async fn describe_with(aws: &AwsContext, name: &str) -> Result<EksCluster, EksError> {
    let name = name.trim();
    let region = aws.region.as_str();
    tracing::debug!(cluster = name, region, "EKS DescribeCluster");
    let client = aws_sdk_eks::Client::new(&aws.sdk);
    let output = client
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|err| describe_error(err, name, region))?;
    let cluster = output.cluster().ok_or_else(|| EksError::Incomplete {
        cluster: name.to_owned(),
        region: region.to_owned(),
        field: "cluster",
    })?;
    cluster_from_api(cluster, name, region)
}

/// Maps the API's cluster object to [`EksCluster`], checking status, endpoint and CA.
pub(super) fn cluster_from_api(
    cluster: &Cluster,
    name: &str,
    region: &str,
) -> Result<EksCluster, EksError> {
    let incomplete = |field| EksError::Incomplete {
        cluster: name.to_owned(),
        region: region.to_owned(),
        field,
    };
    let status = cluster.status().ok_or_else(|| incomplete("status"))?;
    if !matches!(status, ClusterStatus::Active | ClusterStatus::Updating) {
        return Err(EksError::NotActive {
            cluster: name.to_owned(),
            region: region.to_owned(),
            status: status.as_str().to_owned(),
        });
    }
    let endpoint = cluster
        .endpoint()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| incomplete("endpoint"))?;
    let ca_data = cluster
        .certificate_authority()
        .and_then(|ca| ca.data())
        .filter(|d| !d.is_empty())
        .ok_or_else(|| incomplete("certificateAuthority.data"))?;
    let ca_pem = base64::engine::general_purpose::STANDARD
        .decode(ca_data.trim())
        .map_err(|err| EksError::InvalidCa {
            cluster: name.to_owned(),
            detail: format!("not base64: {err}"),
        })?;
    let tags: BTreeMap<String, String> = cluster
        .tags()
        .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let environment = tags.get(ENVIRONMENT_TAG).cloned();
    Ok(EksCluster {
        name: cluster.name().unwrap_or(name).to_owned(),
        region: region.to_owned(),
        arn: cluster.arn().map(str::to_owned),
        endpoint: endpoint.to_owned(),
        ca_pem,
        tags,
        environment,
        status: status.as_str().to_owned(),
        version: cluster.version().map(str::to_owned),
    })
}

fn describe_error(err: SdkError<DescribeClusterError>, name: &str, region: &str) -> EksError {
    let cluster = name.to_owned();
    let region = region.to_owned();
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::ServiceError(context) => {
            let service_err = context.err();
            if service_err.is_resource_not_found_exception() {
                return EksError::ClusterNotFound { cluster, region };
            }
            match service_err.code() {
                Some("AccessDeniedException") => EksError::AccessDenied {
                    cluster,
                    region,
                    detail,
                },
                Some(
                    "UnrecognizedClientException"
                    | "InvalidSignatureException"
                    | "ExpiredTokenException"
                    | "InvalidClientTokenId"
                    | "SignatureDoesNotMatch",
                ) => EksError::CredentialsRejected {
                    cluster,
                    region,
                    detail,
                },
                _ => EksError::Api {
                    cluster,
                    region,
                    detail,
                },
            }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => EksError::Unreachable {
            cluster,
            region,
            detail,
        },
        _ => EksError::Api {
            cluster,
            region,
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::Certificate;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn api_cluster(status: ClusterStatus) -> Cluster {
        Cluster::builder()
            .name("apps-dev")
            .arn("arn:aws:eks:eu-west-1:123456789012:cluster/apps-dev")
            .endpoint("https://ABC.gr7.eu-west-1.eks.amazonaws.com")
            .certificate_authority(
                Certificate::builder()
                    .data(base64::engine::general_purpose::STANDARD.encode(PEM))
                    .build(),
            )
            .status(status)
            .version("1.33")
            .tags(ENVIRONMENT_TAG, "dev")
            .tags("team", "platform")
            .build()
    }

    #[test]
    fn maps_endpoint_ca_tags_and_environment() {
        let cluster =
            cluster_from_api(&api_cluster(ClusterStatus::Active), "apps-dev", "eu-west-1")
                .expect("active cluster maps");
        assert_eq!(
            cluster.endpoint,
            "https://ABC.gr7.eu-west-1.eks.amazonaws.com"
        );
        assert_eq!(cluster.ca_pem, PEM.as_bytes());
        assert_eq!(cluster.environment.as_deref(), Some("dev"));
        assert_eq!(
            cluster.tags.get("team").map(String::as_str),
            Some("platform")
        );
        assert_eq!(cluster.status, "ACTIVE");
        assert_eq!(cluster.region, "eu-west-1");
        assert_eq!(cluster.version.as_deref(), Some("1.33"));
    }

    #[test]
    fn updating_clusters_are_usable() {
        let cluster = cluster_from_api(
            &api_cluster(ClusterStatus::Updating),
            "apps-dev",
            "eu-west-1",
        )
        .expect("updating cluster maps");
        assert_eq!(cluster.status, "UPDATING");
    }

    #[test]
    fn clusters_that_cannot_serve_are_refused_with_their_state() {
        for status in [
            ClusterStatus::Creating,
            ClusterStatus::Deleting,
            ClusterStatus::Failed,
            ClusterStatus::Pending,
        ] {
            let expected = status.as_str().to_owned();
            match cluster_from_api(&api_cluster(status), "apps-dev", "eu-west-1") {
                Err(EksError::NotActive { status, .. }) => assert_eq!(status, expected),
                other => panic!("{expected}: expected NotActive, got {other:?}"),
            }
        }
    }

    #[test]
    fn missing_environment_tag_is_none() {
        let cluster = Cluster::builder()
            .endpoint("https://x")
            .certificate_authority(Certificate::builder().data("TUlJQg==").build())
            .status(ClusterStatus::Active)
            .build();
        let cluster = cluster_from_api(&cluster, "c", "r").expect("maps");
        assert_eq!(cluster.environment, None);
        assert!(cluster.tags.is_empty());
        assert_eq!(cluster.name, "c");
    }

    #[test]
    fn missing_endpoint_or_bad_ca_is_reported() {
        let no_endpoint = Cluster::builder().status(ClusterStatus::Active).build();
        match cluster_from_api(&no_endpoint, "c", "r") {
            Err(EksError::Incomplete { field, .. }) => assert_eq!(field, "endpoint"),
            other => panic!("expected Incomplete, got {other:?}"),
        }
        let bad_ca = Cluster::builder()
            .endpoint("https://x")
            .certificate_authority(Certificate::builder().data("%%%").build())
            .status(ClusterStatus::Active)
            .build();
        match cluster_from_api(&bad_ca, "c", "r") {
            Err(err @ EksError::InvalidCa { .. }) => {
                assert!(err.to_string().contains("not base64"), "{err}")
            }
            other => panic!("expected InvalidCa, got {other:?}"),
        }
    }
}
