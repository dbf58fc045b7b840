"""moto's AWS server on loopback, for tests that point Terraform's aws provider (or any AWS
SDK) at fake AWS APIs: VPC, IAM, KMS, CloudWatch Logs, EKS, STS and the rest moto has.

    sys.path.insert(0, str(REPO / "tests/modules"))
    from motoserver import start_moto
    url, stop = start_moto(tmp_path)        # e.g. "http://127.0.0.1:41235"
    try:
        ...  # AWS_ENDPOINT_URL=url, or the aws provider's endpoints { eks = url ... }
    finally:
        stop()

Any access key works (moto's account is 123456789012); region as you like. The server runs
in its own process (this file run as a script) with the Python running the tests, bound to
127.0.0.1 on a port the kernel picks; it writes the port to a file that start_moto waits
for, so servers never race for a port, and it exits by itself if its parent dies. Its log
goes to <tmpdir>/moto.log. AWS managed IAM policies are loaded (real accounts have them).

Fidelity: moto 5.2 drops some fields real AWS stores and returns, which makes Terraform see
changes that are not there (a second plan would never be empty). With `fidelity=True` (the
default) the server first applies the shims in `_fidelity()`; each names the real
behaviour it restores. They only add what moto leaves out; nothing else changes. The same
switch adds the few API actions moto lacks entirely (`_missing_actions()`), which it would
otherwise answer with HTTP 500, retried by the SDK for minutes.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"


def start_moto(tmpdir, *, fidelity: bool = True, timeout: float = 60.0):
    """Start moto's server on loopback. Returns (url, stop); stop() ends exactly that process.

    Raises RuntimeError with the server's log if it does not answer within `timeout` seconds.
    """
    import importlib.util

    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("werkzeug") is None:
        raise RuntimeError(f"moto's server is not installed for {sys.executable}; run tests/setup (it installs moto[server] from tests/requirements.txt)")
    tmpdir = Path(tmpdir)
    tmpdir.mkdir(parents=True, exist_ok=True)
    port_file = tmpdir / "moto.port"
    log_path = tmpdir / "moto.log"
    port_file.unlink(missing_ok=True)

    cmd = [
        sys.executable, str(Path(__file__).resolve()),
        "--port-file", str(port_file),
        "--parent-pid", str(os.getpid()),
    ]
    if not fidelity:
        cmd.append("--no-fidelity")
    env = dict(os.environ)
    # AWS managed policies (AmazonEKSClusterPolicy, ...) exist in every real account;
    # moto only knows them with this setting.
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    log.close()

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if url is None and port_file.exists():
            text = port_file.read_text().strip()
            if text:
                url = f"http://{HOST}:{int(text)}"
        if url is not None:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2) as resp:
                    if resp.status == 200:
                        return url, stop
            except OSError:
                pass
        time.sleep(0.1)

    stop()
    raise RuntimeError(
        f"moto server did not come up within {timeout:.0f}s (exit code {proc.poll()}); "
        f"log {log_path}:\n{log_path.read_text(errors='replace')[-4000:]}"
    )


def _fidelity() -> None:
    """Make moto keep what real AWS keeps, so Terraform reads back what it wrote.

    Each shim restores one documented behaviour of the real API that moto 5.2 lacks;
    none removes anything moto does.
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.launch_templates import LaunchTemplateVersion
    from moto.eks import responses
    from moto.moto_api._internal import mock_random as random

    # EC2 CreateLaunchTemplate: request-level TagSpecifications (ResourceType
    # "launch-template") tag the template itself. moto also copies them into the version's
    # LaunchTemplateData, where the real API never has them ("launch-template" is not a
    # valid resource type there).
    original_version_init = LaunchTemplateVersion.__init__

    def version_init(self, template, number, data, description):
        specs = data.get("TagSpecifications")
        if specs:
            data = dict(data)
            data["TagSpecifications"] = [t for t in specs if t.get("ResourceType") != "launch-template"]
            if not data["TagSpecifications"]:
                del data["TagSpecifications"]
        original_version_init(self, template, number, data, description)

    LaunchTemplateVersion.__init__ = version_init

    def ec2(resp):
        return ec2_backends[resp.current_account][resp.region]

    # EKS CreateCluster:
    # - keeps accessConfig (authenticationMode; CONFIG_MAP when not given) and returns it;
    # - creates the cluster security group ("eks-cluster-sg-<name>-<id>") in the VPC of
    #   the subnets and returns its ID and the VPC ID in resourcesVpcConfig, as real EKS
    #   does (nodes of managed node groups get this group).
    original_create_cluster = responses.EKSResponse.create_cluster

    def create_cluster(self):
        result = original_create_cluster(self)
        cluster = self.eks_backend.clusters[self._get_param("name")]
        access = self._get_param("accessConfig") or {}
        cluster.access_config = {"authenticationMode": access.get("authenticationMode", "CONFIG_MAP")}
        vpc_config = cluster.resources_vpc_config
        subnet_ids = vpc_config.get("subnetIds") or []
        if subnet_ids:
            backend = ec2(self)
            vpc_id = backend.get_subnet(subnet_ids[0]).vpc_id
            group = backend.create_security_group(
                name=f"eks-cluster-sg-{cluster.name}-{random.get_random_string(length=10, lower_case=True)}",
                description="EKS created security group applied to ENI that is attached to EKS Control Plane "
                "master nodes, as well as any managed workloads.",
                vpc_id=vpc_id,
                tags={f"kubernetes.io/cluster/{cluster.name}": "owned", "aws:eks:cluster-name": cluster.name},
            )
            vpc_config["clusterSecurityGroupId"] = group.id
            vpc_config["vpcId"] = vpc_id
        return result

    responses.EKSResponse.create_cluster = create_cluster

    # EKS UpdateClusterConfig: moto replaces resourcesVpcConfig with the request's, losing
    # the subnets, security groups and cluster security group it does not repeat.
    original_update_cluster_config = responses.EKSResponse.update_cluster_config

    def update_cluster_config(self):
        cluster = self.eks_backend.clusters.get(self._get_param("name"))
        before = dict(cluster.resources_vpc_config) if cluster else None
        result = original_update_cluster_config(self)
        if cluster is not None and before is not None and cluster.resources_vpc_config is not before:
            merged = dict(before)
            merged.update(cluster.resources_vpc_config or {})
            cluster.resources_vpc_config = merged
        return result

    responses.EKSResponse.update_cluster_config = update_cluster_config

    # EKS DeleteCluster removes the cluster security group it created.
    original_delete_cluster = responses.EKSResponse.delete_cluster

    def delete_cluster(self):
        cluster = self.eks_backend.clusters.get(self._get_param("name"))
        group_id = (cluster.resources_vpc_config or {}).get("clusterSecurityGroupId") if cluster else None
        result = original_delete_cluster(self)
        if group_id:
            ec2(self).delete_security_group(group_id=group_id)
        return result

    responses.EKSResponse.delete_cluster = delete_cluster

    # EKS CreateNodegroup: keeps updateConfig (default {"maxUnavailable": 1}) and reports
    # remoteAccess only when it was requested (moto invents an SSH key otherwise).
    original_create_nodegroup = responses.EKSResponse.create_nodegroup

    def create_nodegroup(self):
        result = original_create_nodegroup(self)
        cluster = self.eks_backend.clusters[self._get_param("name")]
        nodegroup = cluster.nodegroups[self._get_param("nodegroupName")]
        nodegroup.update_config = self._get_param("updateConfig") or {"maxUnavailable": 1}
        nodegroup.remote_access = self._get_param("remoteAccess")
        if not nodegroup.remote_access:
            nodegroup.resources.pop("remoteAccessSecurityGroup", None)
        return result

    responses.EKSResponse.create_nodegroup = create_nodegroup

    _missing_actions()


def _missing_actions() -> None:
    """API actions moto 5.2 does not implement at all, which Terraform needs.

    moto answers an action it lacks with HTTP 500 (NotImplementedError). The AWS SDK takes a
    500 for a transient fault and retries it, 25 times with exponential backoff, so
    Terraform does not fail: it waits for many minutes and then fails. Each shim is the
    real action, built from what moto already stores; none changes an action moto has.
    """
    import json

    from moto.athena.responses import AthenaResponse
    from moto.cloudwatch.responses import CloudWatchResponse

    # Athena DeleteNamedQuery (moto: "The delete_named_query action has not been
    # implemented"): removes the saved query and returns {}. The real API answers an
    # unknown ID with InvalidRequestException; `terraform destroy` of an
    # aws_athena_named_query calls it once.
    def delete_named_query(self):
        query_id = self._get_param("NamedQueryId")
        if self.athena_backend.named_queries.pop(query_id, None) is None:
            return self.error(f"NamedQuery {query_id} was not found", 400)
        return json.dumps({})

    AthenaResponse.delete_named_query = delete_named_query

    # CloudWatch PutCompositeAlarm: moto's model and DescribeAlarms already carry composite
    # alarms (an Alarm with an AlarmRule, listed under CompositeAlarms) and its
    # put_metric_alarm reads AlarmRule "to re-use this method for composite alarms"; only
    # the action's name is not routed. Same parameters as the real API: name, rule,
    # description, actions, tags.
    CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm


def _exit_with_parent(parent_pid: int) -> None:
    """End this server when the process that started it is gone (a killed test run)."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _serve(port_file: Path, fidelity: bool, parent_pid: int | None) -> None:
    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    if parent_pid:
        _exit_with_parent(parent_pid)
    if fidelity:
        _fidelity()

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(HOST, 0, app, threaded=True)
    os.environ["MOTO_PORT"] = str(server.server_port)
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_port))
    tmp.rename(port_file)

    def on_signal(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto's server on 127.0.0.1, port chosen by the kernel")
    parser.add_argument("--port-file", required=True, type=Path, help="where to write the port once listening")
    parser.add_argument("--no-fidelity", action="store_true", help="plain moto, without the fidelity shims")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is no longer the parent")
    args = parser.parse_args()
    _serve(args.port_file, not args.no_fidelity, args.parent_pid)
