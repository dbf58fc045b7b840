"""What `terraform validate` and `terraform plan` say about jke_application without any
cluster: schema, defaults in the plan, unknown values, and bad input (issue 2)."""

from __future__ import annotations

import json
import re

import pytest

from harness import client, provider_block

# (attributes of one jke_application, attribute path the error must point at, text the
# detail must contain). Every case is a mistake a user could make; each gets its own block.
BAD_INPUTS = [
    ('name = "Web"', "name", '"Web" must be a DNS label'),
    ('name = "web_app"', "name", "DNS label"),
    ('name = "-web"', "name", "DNS label"),
    ('name = "1web"', "name", "starting with a letter"),
    (f'name = "{"a" * 60}"', "name", "at most 59"),
    ('namespace = "Team A"', "namespace", "DNS label"),
    ('image = ""', "image", "container image"),
    ('image = "nginx latest"', "image", "container image"),
    ('memory = "2Gb"', "memory", '"2Gb" is not a Kubernetes quantity'),
    ('memory = "-1"', "memory", "quantity"),
    ('cpu = "one"', "cpu", "quantity"),
    ('cpu = "0"', "cpu", "greater than zero"),
    ('cpu = "2"\n  cpu_limit = "1"', "cpu_limit", "less than cpu"),
    ('memory_limit = "1Gi"', "memory_limit", "less than memory"),
    ("port = 0", "port", "outside 1..65535"),
    ("port = 70000", "port", "outside 1..65535"),
    ("ports = [{ container_port = 80 }, { container_port = 80 }]", "ports[1].container_port", "more than once"),
    ('ports = [{ container_port = 80, name = "HTTP" }]', "ports[0].name", "port name"),
    ('ports = [{ container_port = 80, name = "a-very-long-port-name" }]', "ports[0].name", "at most 15"),
    ('ports = [{ container_port = 80, protocol = "HTTP" }]', "ports[0].protocol", '"TCP", "UDP" or "SCTP"'),
    ("ports = [{ container_port = 80, service_port = 99999 }]", "ports[0].service_port", "outside 1..65535"),
    ("port = 80\n  ports = [{ container_port = 81 }]", "ports", "either port"),
    ('env = { "1BAD" = "x" }', 'env["1BAD"]', "must start with a letter"),
    ('env = { DB = "a" }\n  secret_env = { DB = "b" }', 'secret_env["DB"]', "set in both env and secret_env"),
    ("replicas = -1", "replicas", "between 0 and 1000"),
    ("autoscale = { min_replicas = 5, max_replicas = 3 }", "autoscale.max_replicas", "at least min_replicas"),
    ("autoscale = { min_replicas = 0 }", "autoscale.min_replicas", "between 1 and 1000"),
    ("autoscale = { target_cpu_utilization = 0 }", "autoscale.target_cpu_utilization", "between 1 and 1000"),
    ('disruption_budget = { max_unavailable = "1", min_available = "1" }', "disruption_budget.min_available", "not both"),
    ('disruption_budget = { max_unavailable = "many" }', "disruption_budget.max_unavailable", "percentage"),
    ('disruption_budget = { max_unavailable = "0" }', "disruption_budget.max_unavailable", "never lets a node drain"),
    ('disruption_budget = { min_available = "2" }', "disruption_budget.min_available", "not below the replica count"),
    ('service = { type = "External" }', "service.type", '"ClusterIP", "NodePort" or "LoadBalancer"'),
    ('service = { external_traffic_policy = "Local" }', "service.external_traffic_policy", "applies only to"),
    ('service = { type = "LoadBalancer", external_traffic_policy = "Nearest" }', "service.external_traffic_policy", '"Local" or "Cluster"'),
    ("ingress = { hosts = [] }", "ingress.hosts", "at least one host"),
    ('ingress = { hosts = ["Shop.Example.com"] }', "ingress.hosts[0]", "fully qualified lowercase"),
    ('ingress = { hosts = ["shop.example.com"], path = "shop" }', "ingress.path", 'must start with "/"'),
    ("readiness_probe = { port = 9090 }", "readiness_probe.port", "not one of the app's container ports"),
    ('readiness_probe = { http_path = "healthz" }', "readiness_probe.http_path", 'must start with "/"'),
    ('liveness_probe = { http_path = "/healthz", tcp = true }', "liveness_probe.tcp", "not both"),
    ('liveness_probe = { http_path = "/h", success_threshold = 2 }', "liveness_probe.success_threshold", "must be 1"),
    ("readiness_probe = { period_seconds = 0 }", "readiness_probe.period_seconds", "between 1 and 3600"),
    ("termination_grace_period = -5", "termination_grace_period", "between 0 and 3600"),
    ("pre_stop_sleep = 40", "pre_stop_sleep", "shorter than termination_grace_period"),
    ("topology_spread = { max_skew = 0 }", "topology_spread.max_skew", "between 1 and 100"),
    ('labels = { "app.kubernetes.io/name" = "x" }', 'labels["app.kubernetes.io/name"]', "set by JKE itself"),
    ('labels = { team = "a b" }', 'labels["team"]', "label values"),
    ('annotations = { "bad key!" = "x" }', 'annotations["bad key!"]', "annotations key"),
    ('rollout = { timeout = "5 minutes" }', "rollout.timeout", "duration"),
    ('rollout = { max_surge = "0", max_unavailable = "0" }', "rollout.max_unavailable", "both zero"),
    ("rollout = { progress_deadline_seconds = 0 }", "rollout.progress_deadline_seconds", "between 1 and 86400"),
    ('security = { profile = "strict" }', "security.profile", '"baseline" (the default) or "restricted"'),
    ('security = { profile = "restricted", run_as_user = 0 }', "security.run_as_user", 'breaks the profile "restricted"'),
    ('security = { capabilities_add = ["SYS_ADMIN"] }', "security.capabilities_add[0]", '"SYS_ADMIN" breaks the profile "baseline"'),
    ('network_policy = { allow_from = [{ cidr = "10.0.0.0/33" }] }', "network_policy.allow_from[0].cidr", "is not an address range"),
    ("network_policy = { egress = [{}] }", "network_policy.egress[0]", "selects nothing"),
    ('ephemeral_storage = "4Gi"\n  ephemeral_storage_limit = "1Gi"', "ephemeral_storage_limit", "less than ephemeral_storage"),
    # Issue 14: refused at plan rather than by the API server half-way through an apply.
    ("replicas = 1.5", "replicas", "replicas = 1.5 must be a whole number"),
    ("port = 80.5", "port", "port = 80.5 must be a whole number"),
    ('disruption_budget = { min_available = "100%" }', "disruption_budget.min_available", "never lets a node drain"),
    ('disruption_budget = { max_unavailable = "0%" }', "disruption_budget.max_unavailable", "never lets a node drain"),
    ('service = { annotations = { "bad key!" = "x" } }', 'service.annotations["bad key!"]', "service.annotations key"),
    ('service_account = { annotations = { "bad key!" = "x" } }', 'service_account.annotations["bad key!"]', "service_account.annotations key"),
    ('ingress = { hosts = ["shop.example.com"], annotations = { "bad key!" = "x" } }', 'ingress.annotations["bad key!"]', "ingress.annotations key"),
    ('node_selector = { "kubernetes.io/os" = "linux os" }', 'node_selector["kubernetes.io/os"]', "node labels are at most 63"),
    ('ingress = { hosts = ["shop.example.com"], path = "/shop//api" }', "ingress.path", 'must not contain "//"'),
]


def test_schema_lists_jke_application_with_descriptions(tf):
    (tf.workdir / "main.tf").write_text(provider_block())
    schema = tf.run("providers", "schema", "-json").json()
    providers = schema["provider_schemas"]
    jke = next(v for k, v in providers.items() if k.endswith("jke/jke"))
    app = jke["resource_schemas"]["jke_application"]["block"]
    assert app["description"]
    for name, attr in app["attributes"].items():
        assert attr.get("description"), f"{name} has no description"
    assert app["attributes"]["image"]["required"] is True
    assert app["attributes"]["secret_env_wo"].get("write_only") is True
    assert "nested_type" in app["attributes"]["autoscale"]
    assert "defaults" in jke["provider"]["block"]["attributes"]


def _bad_config() -> tuple[str, dict[int, int]]:
    """One configuration with a resource per bad input; line -> case index."""
    text = provider_block()
    lines_to_case = {}
    for i, (attrs, _, _) in enumerate(BAD_INPUTS):
        has_name = attrs.startswith("name =")
        has_image = "image =" in attrs
        body = []
        if not has_name:
            body.append(f'name = "app{i}"')
        if not has_image:
            body.append('image = "nginx:1.27"')
        if "port" not in attrs and "ingress" not in attrs and "probe" not in attrs:
            body.append("port = 8080")
        elif "ingress" in attrs or "probe" in attrs:
            body.append("port = 8080")
        block = f'resource "jke_application" "case{i}" {{\n  ' + "\n  ".join(body + [attrs]) + "\n}\n\n"
        start = text.count("\n") + 1
        for n in range(start, start + block.count("\n")):
            lines_to_case[n] = i
        text += block
    return text, lines_to_case


@pytest.mark.clients
def test_every_bad_input_is_an_error_on_its_attribute(tf):
    assert len(BAD_INPUTS) >= 40
    text, line_case = _bad_config()
    (tf.workdir / "main.tf").write_text(text)
    result = tf.validate_json()
    assert result["valid"] is False
    found: dict[int, list[dict]] = {}
    for d in result["diagnostics"]:
        line = d.get("range", {}).get("start", {}).get("line")
        if line in line_case:
            found.setdefault(line_case[line], []).append(d)
    # Terraform 1.15 points a nested attribute's diagnostic at that attribute's line. Older
    # clients (Terraform 1.11, OpenTofu 1.12) show it on the resource's header line, or on a
    # top-level attribute of the same name (`ports[0].name` at `name`): so every detail
    # starts with the full attribute path, and only the client known to place them is held
    # to the line.
    c = client()
    placed_by_client = not c.is_tofu and c.version >= (1, 15, 0)
    missing = []
    for i, (attrs, path, fragment) in enumerate(BAD_INPUTS):
        diags = found.get(i, [])
        # The detail names the attribute, the value and what is accepted; where the client
        # places diagnostics, the top-level attribute name is on the line shown.
        top = re.split(r"[.\[]", path)[0]
        ok = any(
            d["severity"] == "error"
            and fragment in d.get("detail", "")
            and d.get("detail", "").startswith(path)
            and (not placed_by_client or top in d.get("snippet", {}).get("code", ""))
            for d in diags
        )
        if not ok:
            missing.append((attrs, path, fragment, [(x.get("summary"), x.get("detail"), x.get("snippet", {}).get("code")) for x in diags]))
    assert not missing, "\n".join(map(str, missing))


@pytest.mark.clients
def test_valid_app_plans_defaults_without_a_cluster(tf):
    (tf.workdir / "main.tf").write_text(
        provider_block()
        + 'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n}\n'
    )
    tf.run("plan", "-no-color", "-out=plan.bin")
    plan = tf.run("show", "-json", "plan.bin").json()
    after = plan["resource_changes"][0]["change"]["after"]
    assert after["cpu"] == "1" and after["memory"] == "2Gi"
    assert after["cpu_limit"] == "1" and after["memory_limit"] == "2Gi"
    assert after["replicas"] == 2
    assert after["autoscale"] == {
        "enabled": True,
        "min_replicas": 2,
        "max_replicas": 10,
        "target_cpu_utilization": 70,
        "target_memory_utilization": None,
    }
    assert after["disruption_budget"]["max_unavailable"] == "1"
    assert after["termination_grace_period"] == 30
    assert after["id"] == "default/web"
    assert after["service_host"] == "web.default.svc.cluster.local"
    assert after["objects"] == [
        "ServiceAccount/web",
        "Deployment/web",
        "Service/web",
        "HorizontalPodAutoscaler/web",
        "PodDisruptionBudget/web",
        "NetworkPolicy/web",
    ]
    assert after["security"]["profile"] == "baseline"
    assert after["service_account"]["automount_token"] is False
    assert after["network_policy"]["enabled"] is True


def test_provider_defaults_apply_and_the_resource_wins(tf):
    (tf.workdir / "main.tf").write_text(
        provider_block(
            extra='  defaults = {\n    namespace = "shop"\n    cpu = "250m"\n    memory = "512Mi"\n'
            '    service = { type = "LoadBalancer" }\n  }\n'
        )
        + 'resource "jke_application" "web" {\n  name   = "web"\n  image  = "nginx:1.27"\n  port   = 80\n  memory = "1Gi"\n}\n'
    )
    tf.run("plan", "-no-color", "-out=plan.bin")
    after = tf.run("show", "-json", "plan.bin").json()["resource_changes"][0]["change"]["after"]
    assert after["namespace"] == "shop"
    assert after["cpu"] == "250m"
    assert after["memory"] == "1Gi"
    assert after["service"]["type"] == "LoadBalancer"
    assert after["service"]["external_traffic_policy"] == "Local"


def test_unknown_values_pass_validation_and_stay_unknown(tf):
    (tf.workdir / "main.tf").write_text(
        provider_block()
        + 'resource "terraform_data" "build" {\n  input = "registry.example.com/web"\n}\n\n'
        + 'resource "jke_application" "web" {\n  name  = "web"\n  image = "${terraform_data.build.output}:1"\n  port  = 80\n'
        + '  env = { BUILD = terraform_data.build.id }\n}\n'
    )
    tf.run("plan", "-no-color", "-out=plan.bin")
    rc = next(r for r in tf.run("show", "-json", "plan.bin").json()["resource_changes"] if r["type"] == "jke_application")
    assert rc["change"]["after_unknown"].get("image") is True
    assert rc["change"]["after_unknown"].get("env", {}).get("BUILD") is True
    assert rc["change"]["after"]["id"] == "default/web"


def test_plan_with_unknown_connection_values_needs_no_cluster(tf):
    (tf.workdir / "main.tf").write_text(
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n\n'
        'resource "terraform_data" "cluster" {\n  input = { host = "https://127.0.0.1:1", token = "t" }\n}\n\n'
        'provider "jke" {\n  kubernetes = {\n    host  = terraform_data.cluster.output.host\n    token = terraform_data.cluster.output.token\n  }\n}\n\n'
        'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n}\n'
    )
    r = tf.plan()
    assert "jke_application.web will be created" in r.out
    assert "2 to add" in r.out


def test_write_only_secrets_never_reach_plan_or_state(tf):
    (tf.workdir / "main.tf").write_text(
        provider_block()
        + 'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n'
        + '  secret_env_wo      = { API_KEY = "s3cr3t-value" }\n  secret_env_version = 1\n}\n'
    )
    tf.run("plan", "-no-color", "-out=plan.bin")
    plan = tf.run("show", "-json", "plan.bin").json()
    # The configuration section echoes literal expressions; values Terraform stores are
    # the planned values and the changes.
    stored = json.dumps([plan["planned_values"], plan["resource_changes"]])
    assert "s3cr3t-value" not in stored
    assert "Secret/web-env" in stored
    assert plan["resource_changes"][0]["change"]["after"]["secret_env_wo"] is None


def test_quickstart_example_validates(tf):
    from harness import ROOT

    for f in (ROOT / "examples" / "quickstart").glob("*.tf"):
        (tf.workdir / f.name).write_text(f.read_text())
    r = tf.validate_json()
    assert r["valid"], r


def _errors(result: dict) -> list[str]:
    return [d.get("detail", "") for d in result["diagnostics"] if d["severity"] == "error"]


def test_go_durations_are_accepted(tf):
    """Every duration form Go (and so Terraform users) know: fractions, sums, milliseconds."""
    blocks = "".join(
        f'resource "jke_application" "d{i}" {{\n  name  = "d{i}"\n  image = "nginx:1.27"\n  port  = 80\n'
        f"  rollout = {{ timeout = {json.dumps(t)} }}\n}}\n\n"
        for i, t in enumerate(["1.5h", "1h30m", "300ms", "2m30.5s"])
    )
    (tf.workdir / "main.tf").write_text(provider_block() + blocks)
    r = tf.validate_json()
    assert r["valid"], r


def test_a_fraction_in_a_cluster_quota_names_the_attribute(tf):
    (tf.workdir / "main.tf").write_text(
        provider_block()
        + 'resource "jke_cluster" "this" {\n  environment = "dev"\n'
        + '  namespaces = {\n    shop = { quota = { pods = 2.5 } }\n  }\n}\n'
    )
    r = tf.validate_json()
    assert any(e.startswith('namespaces["shop"].quota.pods = 2.5 must be a whole number') for e in _errors(r)), r


@pytest.mark.parametrize(
    "provider, path, fragment",
    [
        (
            'kubernetes = {\n    host = "https://127.0.0.1:6443"\n    token = "t"\n'
            '    client_certificate = "c"\n    client_key = "k"\n  }\n',
            "kubernetes.token",
            "set one of them",
        ),
        ('kubernetes = {\n    config_path = "kubeconfig"\n    config_context = ""\n  }\n', "kubernetes.config_context", "names no context"),
        ("require_environment = true\n", "environment", "require_environment = true and no environment is set"),
    ],
)
def test_ambiguous_provider_settings_are_refused_at_validate(tf, provider, path, fragment):
    (tf.workdir / "main.tf").write_text(
        provider_block(extra="  " + provider)
        + 'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n}\n'
    )
    r = tf.validate_json()
    assert any(e.startswith(path) and fragment in e for e in _errors(r)), r
