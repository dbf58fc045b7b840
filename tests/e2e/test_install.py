"""Installing the released provider the way a platform team does (issue 15): tests/release
writes the registry's files, a filesystem mirror and a static network mirror; `terraform
init` installs jke/jke at the pinned version from either mirror (the network mirror served
over HTTPS from loopback, trusted through a throw-away CA), records its hashes in
.terraform.lock.hcl, and refuses a tampered package. One app then goes through apply, an
empty second plan and destroy with that installed provider: no dev_overrides anywhere."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import io
import json
import re
import shutil
import ssl
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from harness import Terraform, client, hcl, installed_cli_config, provider_block

pytestmark = pytest.mark.clients

NAME = "terraform-provider-jke"


def locked(workdir: Path) -> dict[str, dict]:
    """The provider entries of .terraform.lock.hcl: address -> version, constraints, hashes."""
    text = (workdir / ".terraform.lock.hcl").read_text()
    out = {}
    for m in re.finditer(r'provider "([^"]+)" \{(.*?)\n\}', text, re.S):
        body = m.group(2)
        out[m.group(1)] = {
            "version": re.search(r'version\s*=\s*"([^"]*)"', body).group(1),
            "constraints": (re.search(r'constraints\s*=\s*"([^"]*)"', body) or [None, None])[1],
            "hashes": re.findall(r'"((?:h1|zh):[^"]+)"', body),
        }
    return out


def sha256sums(release: Path, version: str) -> dict[str, str]:
    lines = (release / f"{NAME}_{version}_SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def tamper(package: Path) -> None:
    """Rewrite a provider zip as a valid package whose binary has been changed."""
    with zipfile.ZipFile(package) as z:
        (info,) = z.infolist()
        binary = z.read(info)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(info, binary + b"\0tampered")
    package.write_bytes(buf.getvalue())


def workdir(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "main.tf").write_text(text)
    return d


@pytest.fixture
def pinned(provider_version) -> str:
    """A configuration that pins jke/jke to the released version."""
    return provider_block(version=provider_version)


# --- the release's files -------------------------------------------------------------


def test_release_has_the_registry_files_and_a_binary_that_says_its_version(release, provider_version, tmp_path):
    v = provider_version
    zip_name = f"{NAME}_{v}_linux_amd64.zip"
    sums = sha256sums(release, v)
    assert set(sums) >= {zip_name, f"{NAME}_{v}_manifest.json"}
    for name, digest in sums.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, name
    manifest = json.loads((release / f"{NAME}_{v}_manifest.json").read_text())
    assert manifest["metadata"]["protocol_versions"] == ["6.0"]
    with zipfile.ZipFile(release / zip_name) as z:
        assert z.namelist() == [f"{NAME}_v{v}"]
        z.extractall(tmp_path)
    binary = tmp_path / f"{NAME}_v{v}"
    binary.chmod(0o755)  # zipfile does not restore modes; Terraform's installer does
    assert subprocess.run([str(binary), "--version"], text=True, capture_output=True).stdout.strip() == f"{NAME} {v}"


def test_mirror_trees_list_the_version_with_its_hashes(release, provider_version):
    v = provider_version
    zip_name = f"{NAME}_{v}_linux_amd64.zip"
    digest = sha256sums(release, v)[zip_name]
    for host in ("registry.terraform.io", "registry.opentofu.org"):
        assert (release / "filesystem-mirror" / host / "jke/jke" / zip_name).read_bytes() == (release / zip_name).read_bytes()
        net = release / "network-mirror" / host / "jke/jke"
        assert v in json.loads((net / "index.json").read_text())["versions"]
        archive = json.loads((net / f"{v}.json").read_text())["archives"]["linux_amd64"]
        assert archive["url"] == zip_name and (net / zip_name).is_file()
        assert f"zh:{digest}" in archive["hashes"]
        assert any(h.startswith("h1:") for h in archive["hashes"])


# --- init from the filesystem mirror ---------------------------------------------------


def test_init_from_the_filesystem_mirror_installs_the_pinned_version_and_locks_it(release, provider_version, pinned, tmp_path):
    cli = installed_cli_config(tmp_path / "mirror.tfrc", filesystem_mirror=release / "filesystem-mirror")
    work = workdir(tmp_path, "fs", pinned)
    tf = Terraform(work, tmp_path, cli_config=cli)
    r = tf.run("init", "-no-color", "-input=false")
    assert f"jke/jke v{provider_version}" in r.out, str(r)
    address = f"{client().registry}/jke/jke"
    lock = locked(work)
    assert lock[address]["version"] == provider_version
    assert lock[address]["constraints"] == provider_version
    # The h1: hash Terraform computed from the package is the one the release publishes.
    published = json.loads((release / "network-mirror" / client().registry / f"jke/jke/{provider_version}.json").read_text())
    assert set(lock[address]["hashes"]) & set(published["archives"]["linux_amd64"]["hashes"]), (lock, published)
    installed = work / ".terraform/providers" / address / provider_version / "linux_amd64" / f"{NAME}_v{provider_version}"
    assert installed.is_file()
    version = tf.run("version").out
    assert f"provider {address} v{provider_version}" in version, version
    # The installed provider answers Terraform: its schema has the resource.
    schema = tf.run("providers", "schema", "-json").json()
    assert "jke_application" in schema["provider_schemas"][address]["resource_schemas"]


def test_a_version_the_mirror_does_not_have_is_refused_naming_the_constraint(release, tmp_path):
    cli = installed_cli_config(tmp_path / "mirror.tfrc", filesystem_mirror=release / "filesystem-mirror")
    work = workdir(tmp_path, "missing", provider_block(version="9.9.9"))
    r = Terraform(work, tmp_path, cli_config=cli).run("init", "-no-color", "-input=false", check=False)
    assert r.code != 0
    assert "jke/jke" in r.err and "9.9.9" in r.err, str(r)
    assert not (work / ".terraform.lock.hcl").exists()


def test_a_tampered_package_is_refused_against_the_lock_file(release, provider_version, pinned, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(release / "filesystem-mirror", mirror)
    cli = installed_cli_config(tmp_path / "mirror.tfrc", filesystem_mirror=mirror)
    work = workdir(tmp_path, "fs", pinned)
    tf = Terraform(work, tmp_path, cli_config=cli)
    tf.run("init", "-no-color", "-input=false")
    lock_before = (work / ".terraform.lock.hcl").read_text()

    # Someone swaps the package in the mirror; a fresh checkout (same lock file) inits.
    tamper(mirror / client().registry / "jke/jke" / f"{NAME}_{provider_version}_linux_amd64.zip")
    shutil.rmtree(work / ".terraform")
    r = tf.run("init", "-no-color", "-input=false", check=False)
    assert r.code != 0, str(r)
    assert "checksum" in r.err.lower() and "jke/jke" in r.err, str(r)
    assert (work / ".terraform.lock.hcl").read_text() == lock_before
    assert not list((work / ".terraform").rglob(f"{NAME}_v*"))


# --- init from the network mirror over HTTPS ------------------------------------------------


def _throwaway_tls(d: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jke test mirror CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = d / "ca.pem", d / "cert.pem", d / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class StaticHTTPS:
    """A plain static file server over HTTPS on 127.0.0.1 (any web server or bucket would
    do the same); keeps the paths it was asked for."""

    def __init__(self, root: Path, tls_dir: Path):
        self.ca, cert, key = _throwaway_tls(tls_dir)
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(root), **kw)

            def log_message(self, fmt, *args):
                requests.append(self.path)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def network_mirror(release, tmp_path):
    """The release's network-mirror tree (a copy, so a test may tamper with it) on HTTPS."""
    root = tmp_path / "www"
    shutil.copytree(release / "network-mirror", root)
    tls = tmp_path / "tls"
    tls.mkdir()
    server = StaticHTTPS(root, tls)
    server.root = root
    yield server
    server.close()


def test_init_from_the_network_mirror_over_https_installs_and_locks_the_published_hashes(
    network_mirror, release, provider_version, pinned, tmp_path
):
    cli = installed_cli_config(tmp_path / "net.tfrc", network_mirror=network_mirror.url)
    work = workdir(tmp_path, "net", pinned)
    tf = Terraform(work, tmp_path, {"SSL_CERT_FILE": str(network_mirror.ca)}, cli_config=cli)
    r = tf.run("init", "-no-color", "-input=false")
    assert f"jke/jke v{provider_version}" in r.out, str(r)
    address = f"{client().registry}/jke/jke"
    lock = locked(work)[address]
    assert lock["version"] == provider_version
    # init checked the download against the mirror's published hashes (h1: and zh:, the
    # zip's sha256 from SHA256SUMS) and locks the package's h1: hash, the one published.
    published = json.loads((network_mirror.root / client().registry / f"jke/jke/{provider_version}.json").read_text())
    hashes = published["archives"]["linux_amd64"]["hashes"]
    digest = sha256sums(release, provider_version)[f"{NAME}_{provider_version}_linux_amd64.zip"]
    assert f"zh:{digest}" in hashes
    assert lock["hashes"] and set(lock["hashes"]) <= set(hashes), (lock, hashes)
    base = f"/{client().registry}/jke/jke/"
    assert base + "index.json" in network_mirror.requests
    assert base + f"{NAME}_{provider_version}_linux_amd64.zip" in network_mirror.requests


def test_a_tampered_package_on_the_network_mirror_is_refused(network_mirror, provider_version, pinned, tmp_path):
    tamper(network_mirror.root / client().registry / "jke/jke" / f"{NAME}_{provider_version}_linux_amd64.zip")
    cli = installed_cli_config(tmp_path / "net.tfrc", network_mirror=network_mirror.url)
    work = workdir(tmp_path, "net", pinned)
    tf = Terraform(work, tmp_path, {"SSL_CERT_FILE": str(network_mirror.ca)}, cli_config=cli)
    r = tf.run("init", "-no-color", "-input=false", check=False)
    assert r.code != 0, str(r)
    assert "jke/jke" in r.err and ("checksum" in r.err.lower() or "hash" in r.err.lower()), str(r)
    assert not (work / ".terraform.lock.hcl").exists()
    assert not list((work / ".terraform").rglob(f"{NAME}_v*")) if (work / ".terraform").exists() else True


def test_a_mirror_whose_certificate_is_not_trusted_is_refused(network_mirror, pinned, tmp_path):
    cli = installed_cli_config(tmp_path / "net.tfrc", network_mirror=network_mirror.url)
    work = workdir(tmp_path, "net", pinned)
    r = Terraform(work, tmp_path, cli_config=cli).run("init", "-no-color", "-input=false", check=False)
    assert r.code != 0 and "certificate" in r.err.lower(), str(r)


# --- the installed provider on the local cluster ------------------------------------------


def test_installed_provider_applies_plans_nothing_more_and_destroys(cluster, namespace, release, provider_version, tmp_path):
    cli = installed_cli_config(tmp_path / "mirror.tfrc", filesystem_mirror=release / "filesystem-mirror")
    extra = f'  defaults = {{\n    namespace = {hcl(namespace)}\n    cpu = "50m"\n    memory = "64Mi"\n  }}\n'
    body = (
        'resource "jke_application" "web" {\n  name  = "web"\n  image = "nginx:1.27"\n  port  = 80\n'
        '  rollout = { timeout = "90s", progress_deadline_seconds = 30 }\n}\n'
    )
    work = workdir(tmp_path, "app", provider_block(cluster.kubeconfig, cluster.context, extra, version=provider_version) + body)
    tf = Terraform(work, tmp_path, cli_config=cli)
    tf.run("init", "-no-color", "-input=false")
    assert locked(work)[f"{client().registry}/jke/jke"]["version"] == provider_version

    r = tf.apply()
    assert "development overrides" not in (r.out + r.err).lower(), str(r)
    d = cluster.apps.read_namespaced_deployment("web", namespace)
    assert d.status.available_replicas == 2
    assert tf.plan_exitcode().code == 0, "no changes after apply"
    tf.destroy()
    sel = "app.kubernetes.io/instance=web"
    assert cluster.apps.list_namespaced_deployment(namespace, label_selector=sel).items == []
    assert cluster.core.list_namespaced_service(namespace, label_selector=sel).items == []
