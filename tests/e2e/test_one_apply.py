"""One apply for cluster and apps (issue 6): the provider's connection comes from a resource
that is only known after apply, as when the cluster is created in the same run."""

from __future__ import annotations

import base64

import yaml

from harness import hcl


def test_connection_known_only_after_apply_plans_and_applies_in_one_run(cluster, tf, namespace):
    cfg = yaml.safe_load(cluster.kubeconfig.read_text())
    user = cfg["users"][0]["user"]
    conn = {
        "host": cluster.server,
        "ca": base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode(),
        "cert": base64.b64decode(user["client-certificate-data"]).decode(),
        "key": base64.b64decode(user["client-key-data"]).decode(),
    }
    (tf.workdir / "main.tf").write_text(
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n\n'
        "# Stands in for the cluster module: its outputs are unknown until it is applied.\n"
        f'resource "terraform_data" "cluster" {{\n  input = {hcl(conn)}\n}}\n\n'
        'provider "jke" {\n  kubernetes = {\n'
        "    host                   = terraform_data.cluster.output.host\n"
        "    cluster_ca_certificate = terraform_data.cluster.output.ca\n"
        "    client_certificate     = terraform_data.cluster.output.cert\n"
        "    client_key             = terraform_data.cluster.output.key\n  }\n"
        f'  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n}}\n\n'
        'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n}\n\n'
        'resource "jke_application" "api" {\n  name  = "api"\n  image = "nginx:1.27"\n  port  = 8080\n'
        "  env   = { WEB = jke_application.web.service_host }\n}\n"
    )
    plan = tf.plan()
    assert "3 to add" in plan.out, str(plan)
    tf.apply()
    assert cluster.apps.read_namespaced_deployment("api", namespace).status.available_replicas == 2
    again = tf.plan_exitcode()
    assert again.code == 0, str(again)
