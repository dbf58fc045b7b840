"""Print the EKS token the aws CLI (botocore) makes, at a fixed time, with test credentials.

Regenerates the reference vectors in provider/src/kube/eks/token.rs:
    .venv/bin/python provider/tests/support/botocore_eks_token.py CLUSTER REGION UNIX_SECONDS [SESSION_TOKEN]
Prints the presigned URL, then the token. botocore comes with moto in the repo's .venv.
"""

import base64
import datetime
import sys
from unittest import mock

import botocore.config
import botocore.session

ACCESS_KEY = "AKIDJKETESTEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYJKETESTKEY"


def main() -> None:
    cluster, region, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    session_token = sys.argv[4] if len(sys.argv) > 4 else None
    client = botocore.session.get_session().create_client(
        "sts",
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=session_token,
        config=botocore.config.Config(signature_version="v4"),
    )

    def add_cluster_header(request, **_kwargs):
        request.headers["x-k8s-aws-id"] = cluster

    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    at = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        url = client.generate_presigned_url(
            "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
        )
    print(url)
    print("k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("="))


if __name__ == "__main__":
    main()
