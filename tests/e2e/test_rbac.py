"""The provider as a ServiceAccount bound to exactly the Role the README documents (issue 4)."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml
from kubernetes import client

from harness import ROOT, hcl

ROLE_FILE = ROOT / "docs" / "rbac" / "jke-provider-role.yaml"


def role_rules() -> list[dict]:
    docs = [d for d in yaml.safe_load_all(ROLE_FILE.read_text()) if d]
    role = next(d for d in docs if d["kind"] == "Role")
    return role["rules"]


def service_account_token(cluster, namespace: str, name: str, rules: list[dict]) -> str:
    cluster.core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))
    cluster.rbac.create_namespaced_role(
        namespace, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name}, "rules": rules}
    )
    cluster.rbac.create_namespaced_role_binding(
        namespace,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    )
    tr = cluster.core.create_namespaced_service_account_token(
        name, namespace, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
    )
    return tr.status.token


def ca_pem(kubeconfig: Path) -> str:
    cfg = yaml.safe_load(kubeconfig.read_text())
    return base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()


def token_config(cluster, namespace: str, token: str, app_extra: str = "") -> str:
    return (
        'terraform {\n  required_providers {\n    jke = { source = "jke/jke" }\n  }\n}\n'
        f'provider "jke" {{\n  kubernetes = {{\n    host = {hcl(cluster.server)}\n    cluster_ca_certificate = {hcl(ca_pem(cluster.kubeconfig))}\n'
        f'    token = {hcl(token)}\n  }}\n  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n}}\n'
        f'resource "jke_application" "web" {{\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n{app_extra}}}\n'
    )


def test_documented_minimal_role_is_enough_for_the_whole_lifecycle(cluster, tf, namespace):
    token = service_account_token(cluster, namespace, "jke-deployer", role_rules())
    (tf.workdir / "main.tf").write_text(token_config(cluster, namespace, token, '  secret_env = { A = "1" }\n  ingress = { hosts = ["web.example.com"] }\n'))
    tf.apply()
    assert tf.plan_exitcode().code == 0
    tf.destroy()


def test_missing_permission_names_verb_and_resource(cluster, tf, namespace):
    rules = [r for r in role_rules() if "secrets" not in r.get("resources", [])]
    token = service_account_token(cluster, namespace, "jke-no-secrets", rules)
    (tf.workdir / "main.tf").write_text(token_config(cluster, namespace, token, '  secret_env = { A = "1" }\n'))
    r = tf.apply(check=False)
    assert r.code != 0
    err = " ".join(r.err.split())
    # The owner check reads every object of the app before anything is written.
    assert 'resource "secrets"' in err and "cannot get" in err, str(r)
