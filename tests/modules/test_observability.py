"""Issue 12: modules/log-archive and modules/app-alerts applied for real against moto's AWS
server (tests/modules/fixtures/moto-observability): the second plan is empty, the AWS APIs
describe what a user relies on (encrypted private buckets, the Firehose pipeline, the
projected Glue table, the enforced Athena workgroup, alarms, composite alarms, topic,
dashboard), and destroy removes everything.

moto 5.2 lacks two actions this needs, CloudWatch PutCompositeAlarm and Athena
DeleteNamedQuery; tests/modules/motoserver.py adds them (see _missing_actions there). Without
DeleteNamedQuery moto answers HTTP 500, which the AWS SDK retries with backoff for many
minutes: that was the destroy that "hung". Formatting, README tables, `terraform validate`
and `terraform test` of both modules run in test_modules.py with the other modules.

Run: .venv/bin/pytest tests/modules/test_observability.py (after tests/setup).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules_harness import Terraform, copy_tree

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's

# Against moto nothing waits for AWS to converge, so a destroy that takes longer than this is
# stuck (a retried error), not slow; fail then instead of after Terraform.run's 15 minutes.
DESTROY_TIMEOUT = 300


def _boto(service: str, url: str):
    import boto3

    return boto3.client(
        service, endpoint_url=url, region_name=REGION, aws_access_key_id="moto", aws_secret_access_key="moto"
    )


@pytest.fixture(scope="module")
def applied(terraform: Terraform, moto_url: str, tmp_path_factory):
    """The fixture applied against moto; destroyed at the end (unless a test did)."""
    tree = copy_tree(tmp_path_factory.mktemp("moto-observability"))
    workdir = tree / "tests/modules/fixtures/moto-observability"
    var = f"-var=aws_endpoint={moto_url}"
    terraform.init(workdir)
    terraform.run(workdir, "apply", "-auto-approve", "-input=false", "-no-color", var)
    outputs = {k: v["value"] for k, v in json.loads(terraform.run(workdir, "output", "-json", "-no-color").stdout).items()}
    state = {"destroyed": False}
    yield workdir, var, outputs, moto_url, state
    if not state["destroyed"]:
        terraform.run(workdir, "destroy", "-auto-approve", "-input=false", "-no-color", var, check=False, timeout=DESTROY_TIMEOUT)


def test_second_plan_is_empty(applied, terraform: Terraform):
    workdir, var, *_ = applied
    res = terraform.run(workdir, "plan", "-detailed-exitcode", "-input=false", "-no-color", var, check=False)
    assert res.returncode == 0, f"second plan is not empty (exit {res.returncode}):\n{res.stdout[-12000:]}\n{res.stderr}"


################################################################################
# log-archive
################################################################################


def test_archive_buckets_are_encrypted_private_versioned_tls_only(applied):
    _, _, outputs, url, _ = applied
    archive = outputs["log_archive"]
    s3 = _boto("s3", url)
    assert archive["bucket_name"] == f"jke-moto-logs-{ACCOUNT}"
    assert archive["query_results_bucket_name"] == f"jke-moto-athena-{ACCOUNT}"
    key_arn = archive["kms_key_arn"]
    assert _boto("kms", url).describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"] == "Enabled"
    assert _boto("kms", url).get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]
    for bucket in (archive["bucket_name"], archive["query_results_bucket_name"]):
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
        assert rule["BucketKeyEnabled"]
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block[k] for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
        assert logging["TargetBucket"] == "jke-moto-access-logs"
        assert logging["TargetPrefix"].startswith("jke-moto/")


def test_archive_lifecycle(applied):
    _, _, outputs, url, _ = applied
    rules = {r["ID"]: r for r in _boto("s3", url).get_bucket_lifecycle_configuration(Bucket=outputs["log_archive"]["bucket_name"])["Rules"]}
    archive = rules["archive"]
    assert archive["Filter"]["Prefix"] == "logs/"
    assert sorted((t["Days"], t["StorageClass"]) for t in archive["Transitions"]) == [(30, "STANDARD_IA"), (90, "GLACIER_IR")]
    assert archive["Expiration"]["Days"] == 400
    assert archive["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rules["delivery-errors"]["Filter"]["Prefix"] == "errors/"
    results = _boto("s3", url).get_bucket_lifecycle_configuration(Bucket=outputs["log_archive"]["query_results_bucket_name"])["Rules"]
    assert [r["Expiration"]["Days"] for r in results] == [30]


def test_logs_flow_from_the_log_group_through_firehose(applied):
    _, _, outputs, url, _ = applied
    archive = outputs["log_archive"]
    filters = _boto("logs", url).describe_subscription_filters(logGroupName="/aws/containerinsights/jke-moto/application")["subscriptionFilters"]
    assert len(filters) == 1
    assert filters[0]["destinationArn"] == archive["firehose_stream_arn"]
    assert filters[0]["filterPattern"] == ""
    stream = _boto("firehose", url).describe_delivery_stream(DeliveryStreamName="jke-moto-logs")["DeliveryStreamDescription"]
    s3 = stream["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert s3["BucketARN"] == archive["bucket_arn"]
    assert s3["Prefix"] == "logs/!{partitionKeyFromQuery:namespace}/!{partitionKeyFromQuery:app}/!{timestamp:yyyy/MM/dd/HH}/"
    assert s3["ErrorOutputPrefix"].startswith("errors/")
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"] == archive["kms_key_arn"]
    assert s3["DynamicPartitioningConfiguration"]["Enabled"]
    processors = s3["ProcessingConfiguration"]["Processors"]
    assert [p["Type"] for p in processors] == ["Decompression", "CloudWatchLogProcessing", "MetadataExtraction", "AppendDelimiterToRecord"]
    extraction = {p["ParameterName"]: p["ParameterValue"] for p in processors[2]["Parameters"]}
    assert extraction["MetadataExtractionQuery"].startswith("{namespace: .kubernetes.namespace_name")
    assert s3["CloudWatchLoggingOptions"] == {"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/jke-moto-logs", "LogStreamName": "DestinationDelivery"}


def test_roles_allow_only_the_pipeline(applied):
    _, _, outputs, url, _ = applied
    iam = _boto("iam", url)
    subscription = iam.get_role(RoleName="jke-moto-logs-subscription")["Role"]
    assert subscription["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "logs.amazonaws.com"}
    filters = _boto("logs", url).describe_subscription_filters(logGroupName="/aws/containerinsights/jke-moto/application")
    assert filters["subscriptionFilters"][0]["roleArn"] == subscription["Arn"]
    put = iam.get_role_policy(RoleName="jke-moto-logs-subscription", PolicyName="put-records")["PolicyDocument"]
    assert put["Statement"] == [{
        "Sid": "PutRecords", "Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
        "Resource": outputs["log_archive"]["firehose_stream_arn"],
    }]
    firehose = iam.get_role(RoleName="jke-moto-logs-firehose")["Role"]
    assert firehose["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT}}
    deliver = iam.get_role_policy(RoleName="jke-moto-logs-firehose", PolicyName="deliver")["PolicyDocument"]
    resources = {r for s in deliver["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    bucket = outputs["log_archive"]["bucket_arn"]
    assert resources == {
        bucket, f"{bucket}/logs/*", f"{bucket}/errors/*", outputs["log_archive"]["kms_key_arn"],
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/kinesisfirehose/jke-moto-logs:log-stream:DestinationDelivery",
    }
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("jke-moto")) == [
        "jke-moto-logs-firehose", "jke-moto-logs-subscription",
    ]


def test_glue_table_projects_the_firehose_layout(applied):
    _, _, outputs, url, _ = applied
    archive = outputs["log_archive"]
    assert archive["table_name"] == "jke_moto.container_logs"
    table = _boto("glue", url).get_table(DatabaseName="jke_moto", Name="container_logs")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["namespace", "app", "hour"]
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.namespace.type"] == params["projection.app.type"] == "injected"
    assert (params["projection.hour.type"], params["projection.hour.format"], params["projection.hour.interval.unit"]) == ("date", "yyyy/MM/dd/HH", "HOURS")
    assert params["storage.location.template"] == f"s3://{archive['bucket_name']}/logs/${{namespace}}/${{app}}/${{hour}}/"
    columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    assert set(columns) == {"time", "stream", "log", "kubernetes"}
    assert "labels:map<string,string>" in columns["kubernetes"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"


def test_athena_workgroup_is_enforced_and_encrypted(applied):
    _, _, outputs, url, _ = applied
    archive = outputs["log_archive"]
    athena = _boto("athena", url)
    config = athena.get_work_group(WorkGroup=archive["workgroup_name"])["WorkGroup"]["Configuration"]
    assert config["EnforceWorkGroupConfiguration"]
    assert config["ResultConfiguration"]["OutputLocation"] == f"s3://{archive['query_results_bucket_name']}/results/"
    assert config["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_KMS", "KmsKey": archive["kms_key_arn"]}
    assert config["BytesScannedCutoffPerQuery"] == 100 * 1024**3
    ids = athena.list_named_queries(WorkGroup=archive["workgroup_name"])["NamedQueryIds"]
    # GetNamedQuery one by one: moto has no BatchGetNamedQuery.
    queries = {q["Name"]: q for q in (athena.get_named_query(NamedQueryId=i)["NamedQuery"] for i in ids)}
    assert len(queries) == len(ids)
    assert set(queries) == {"jke-moto-app-errors-last-hour", "jke-moto-app-lines-by-pod", "jke-moto-app-top-errors-by-day"}
    for q in queries.values():
        assert q["Database"] == "jke_moto"
        assert 'FROM "jke_moto"."container_logs"' in q["QueryString"]
        assert "WHERE namespace = ? AND app = ?" in q["QueryString"]
    assert queries["jke-moto-app-errors-last-hour"]["QueryString"] == archive["example_query"]


################################################################################
# app-alerts
################################################################################


def _alarms(url: str, kind: str = "MetricAlarms") -> dict:
    pages = _boto("cloudwatch", url).get_paginator("describe_alarms").paginate(AlarmNamePrefix="jke-moto-")
    return {a["AlarmName"]: a for page in pages for a in page[kind]}


def test_alarms_per_app_on_container_insights(applied):
    _, _, outputs, url, _ = applied
    alarms = _alarms(url)
    assert set(alarms) == {
        "jke-moto-web-pods", "jke-moto-web-restarts", "jke-moto-web-cpu", "jke-moto-web-memory", "jke-moto-web-max-pods",
        "jke-moto-api-pods", "jke-moto-api-restarts", "jke-moto-api-cpu", "jke-moto-api-memory",
    }
    pods = alarms["jke-moto-api-pods"]
    assert (pods["ComparisonOperator"], pods["Threshold"], pods["TreatMissingData"]) == ("LessThanThreshold", 3.0, "breaching")
    metric = pods["Metrics"][0]["MetricStat"]["Metric"]
    assert metric["Namespace"] == "ContainerInsights" and metric["MetricName"] == "kube_deployment_status_replicas_available"
    assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {"ClusterName": "jke-moto", "Namespace": "shop", "PodName": "api"}
    assert alarms["jke-moto-api-memory"]["Threshold"] == 90.0 and alarms["jke-moto-web-memory"]["Threshold"] == 80.0
    assert alarms["jke-moto-web-max-pods"]["Threshold"] == 10.0
    assert all(a["TreatMissingData"] == "notBreaching" for n, a in alarms.items() if not n.endswith("-pods"))
    # notify = "per_app" (the default): the metric alarms notify nobody themselves...
    assert all(a["AlarmActions"] == [] and a["OKActions"] == [] for a in alarms.values())
    assert {k: set(v) for k, v in outputs["app_alerts"]["alarm_arns"].items()} == {
        "web": {"pods", "restarts", "cpu", "memory", "max-pods"}, "api": {"pods", "restarts", "cpu", "memory"},
    }


def test_one_composite_alarm_per_app_notifies(applied):
    _, _, outputs, url, _ = applied
    alerts = outputs["app_alerts"]
    topic = alerts["sns_topic_arn"]
    composites = _alarms(url, "CompositeAlarms")
    assert set(composites) == {"jke-moto-web", "jke-moto-api"}
    assert {k: a.rsplit(":", 1)[1] for k, a in alerts["composite_alarm_arns"].items()} == {"web": "jke-moto-web", "api": "jke-moto-api"}
    for app, composite in composites.items():
        # ...each app's composite alarm does, on ALARM and OK, while any alarm of that app is in ALARM.
        assert composite["AlarmActions"] == [topic] and composite["OKActions"] == [topic]
        assert composite["ActionsEnabled"]
        rule = composite["AlarmRule"].split(" OR ")
        assert sorted(rule) == sorted(f'ALARM("{n}")' for n in _alarms(url) if n.startswith(f"{app}-")), rule
        tags = {t["Key"]: t["Value"] for t in _boto("cloudwatch", url).list_tags_for_resource(ResourceARN=composite["AlarmArn"])["Tags"]}
        assert tags["jke/app"] == f"shop/{app.removeprefix('jke-moto-')}" and tags["team"] == "platform"


def test_topic_is_encrypted_and_subscribed(applied):
    _, _, outputs, url, _ = applied
    alerts = outputs["app_alerts"]
    sns = _boto("sns", url)
    attributes = sns.get_topic_attributes(TopicArn=alerts["sns_topic_arn"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == alerts["kms_key_arn"]
    policy = json.loads(attributes["Policy"])
    publish = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert publish and publish[0]["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:jke-moto-*"
    subscriptions = {(s["Protocol"], s["Endpoint"]) for s in sns.list_subscriptions_by_topic(TopicArn=alerts["sns_topic_arn"])["Subscriptions"]}
    assert subscriptions == {
        ("email", "oncall@example.com"),
        ("https", "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"),
    }
    key_policy = json.loads(_boto("kms", url).get_key_policy(KeyId=alerts["kms_key_arn"], PolicyName="default")["Policy"])
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in key_policy["Statement"])


def test_dashboard_has_a_row_per_app(applied):
    _, _, outputs, url, _ = applied
    assert outputs["app_alerts"]["dashboard_name"] == "jke-moto-apps"
    body = json.loads(_boto("cloudwatch", url).get_dashboard(DashboardName="jke-moto-apps")["DashboardBody"])
    rows: dict[int, list[str]] = {}
    for w in sorted(body["widgets"], key=lambda w: (w["y"], w["x"])):
        rows.setdefault(w["y"], []).append(w["properties"]["title"])
    assert list(rows.values()) == [
        ["shop/api: available pods (min 3)", "shop/api: container restarts", "shop/api: CPU % of limit",
         "shop/api: memory % of limit", "shop/api: replicas", "shop/api: alarms"],
        ["shop/web: available pods (min 2)", "shop/web: container restarts", "shop/web: CPU % of limit",
         "shop/web: memory % of limit", "shop/web: replicas (max 10)", "shop/web: alarms"],
    ]
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm" and w["y"] == 6)
    names = [a.rsplit(":", 1)[1] for a in alarm_widget["properties"]["alarms"]]
    # The app's composite alarm first, then each of its metric alarms.
    assert names[0] == "jke-moto-web"
    assert sorted(names[1:]) == sorted(n for n in _alarms(url) if n.startswith("jke-moto-web-"))


################################################################################
# destroy
################################################################################


def test_destroy_removes_everything(applied, terraform: Terraform):
    workdir, var, outputs, url, state = applied
    state["destroyed"] = True  # whatever happens, do not destroy again at teardown
    # -refresh=false: test_second_plan_is_empty has just read every resource back; a second
    # refresh walk would only add a provider start and schema load (10-18 s on a busy 2-core
    # machine) and no check.
    terraform.run(workdir, "destroy", "-auto-approve", "-input=false", "-no-color", "-refresh=false", var, timeout=DESTROY_TIMEOUT)
    assert [b["Name"] for b in _boto("s3", url).list_buckets()["Buckets"]] == []
    assert _boto("firehose", url).list_delivery_streams()["DeliveryStreamNames"] == []
    assert _boto("logs", url).describe_log_groups()["logGroups"] == []
    assert _boto("glue", url).get_databases()["DatabaseList"] == []
    athena = _boto("athena", url)
    assert [w["Name"] for w in athena.list_work_groups()["WorkGroups"]] == ["primary"]
    assert athena.list_named_queries(WorkGroup=outputs["log_archive"]["workgroup_name"])["NamedQueryIds"] == []
    assert not [r for r in _boto("iam", url).list_roles()["Roles"] if r["RoleName"].startswith("jke-moto")]
    assert _alarms(url) == {} and _alarms(url, "CompositeAlarms") == {}
    assert _boto("cloudwatch", url).list_dashboards()["DashboardEntries"] == []
    assert _boto("sns", url).list_topics()["Topics"] == []
    kms = _boto("kms", url)
    for arn in (outputs["log_archive"]["kms_key_arn"], outputs["app_alerts"]["kms_key_arn"]):
        assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
