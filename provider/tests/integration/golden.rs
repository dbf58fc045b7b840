//! Golden files for the `jke_application` bundle: each case is an input as a Terraform
//! configuration gives it (JSON, decoded with serde), resolved with no provider defaults,
//! validated (it must be valid) and rendered to the multi-document YAML in
//! `provider/tests/golden/<case>.yaml`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p terraform-provider-jke --test integration golden::` rewrites the files;
//! review the diff before committing it.
//!
//! Probe kinds: the domain's probe input has `http_path` (HTTP GET) and `tcp` (TCP connect)
//! only; exec and gRPC probes are not in the model, so they have no case here.

use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use terraform_provider_jke::app::application::bundle::render;
use terraform_provider_jke::app::application::spec::{Input, Spec};
use terraform_provider_jke::app::application::validate::{validate, validate_input};
use terraform_provider_jke::app::object::{Kind, Manifest, to_yaml};
use terraform_provider_jke::app::report::display;

/// (case name = file name, the resource's configuration).
fn cases() -> Vec<(&'static str, Json)> {
    vec![
        (
            "web_defaults",
            json!({ "name": "web", "image": "nginx:1.27", "port": 80 }),
        ),
        (
            "worker_without_ports",
            json!({
                "name": "worker",
                "image": "ghcr.io/acme/worker:2.1",
                "command": ["/bin/worker"],
                "args": ["--queue", "orders"],
                "env": { "QUEUE": "orders" }
            }),
        ),
        (
            "autoscaling_off",
            json!({
                "name": "api",
                "image": "ghcr.io/acme/api:3.0",
                "port": 8080,
                "replicas": 3,
                "autoscale": { "enabled": false }
            }),
        ),
        (
            "ingress_tls_off",
            json!({
                "name": "shop",
                "image": "nginx:1.27",
                "port": 80,
                "ingress": { "hosts": ["shop.example.com"], "tls": false }
            }),
        ),
        (
            "ports_several",
            json!({
                "name": "multi",
                "image": "ghcr.io/acme/multi:1.0",
                "ports": [
                    { "container_port": 8080 },
                    { "name": "grpc", "container_port": 9090, "service_port": 90 },
                    { "container_port": 9100 },
                    { "name": "dns", "container_port": 5353, "protocol": "UDP" }
                ]
            }),
        ),
        (
            "secret_env",
            json!({
                "name": "billing",
                "image": "ghcr.io/acme/billing:4.2",
                "port": 8080,
                "env": { "LOG_LEVEL": "info" },
                "secret_env": { "DATABASE_URL": "postgres://billing:hunter2@db/billing" }
            }),
        ),
        (
            "secret_env_wo_only",
            json!({
                "name": "payments",
                "image": "ghcr.io/acme/payments:1.0",
                "port": 8080,
                "secret_env_wo": { "API_KEY": "s3cr3t-value" },
                "secret_env_version": 1
            }),
        ),
        (
            "ingress_with_path",
            json!({
                "name": "api",
                "image": "ghcr.io/acme/api:3.0",
                "port": 8080,
                "ingress": {
                    "hosts": ["api.example.com", "api.example.org"],
                    "path": "/v1",
                    "class_name": "nginx",
                    "annotations": { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" }
                }
            }),
        ),
        (
            "create_namespace",
            json!({
                "name": "web",
                "namespace": "shop",
                "create_namespace": true,
                "image": "nginx:1.27",
                "port": 80
            }),
        ),
        (
            "probe_http",
            json!({
                "name": "web",
                "image": "nginx:1.27",
                "port": 8080,
                "readiness_probe": { "http_path": "/ready", "initial_delay_seconds": 2 },
                "liveness_probe": { "http_path": "/healthz", "period_seconds": 20, "failure_threshold": 5 },
                "startup_probe": { "http_path": "/started", "failure_threshold": 30 }
            }),
        ),
        (
            "probe_tcp",
            json!({
                "name": "cache",
                "image": "redis:7.4",
                "ports": [
                    { "name": "redis", "container_port": 6379 },
                    { "name": "metrics", "container_port": 9121 }
                ],
                "readiness_probe": { "tcp": true },
                "liveness_probe": { "tcp": true, "port": 6379, "timeout_seconds": 3 },
                "startup_probe": { "tcp": true, "port": 9121 }
            }),
        ),
        (
            "security_restricted",
            json!({
                "name": "api",
                "namespace": "payments",
                "image": "ghcr.io/acme/api:3.0",
                "port": 8080,
                "security": { "profile": "restricted", "run_as_user": 10001, "fs_group": 10001 },
                "service_account": {
                    "annotations": { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/api" }
                }
            }),
        ),
        (
            "network_policy_limited",
            json!({
                "name": "orders",
                "namespace": "shop",
                "image": "ghcr.io/acme/orders:2.0",
                "port": 8080,
                "ingress": { "hosts": ["orders.example.com"] },
                "network_policy": {
                    "allow_from": [
                        { "namespace": "monitoring", "pod_labels": { "app.kubernetes.io/name": "prometheus" } },
                        { "pod_labels": { "app.kubernetes.io/name": "frontend" } }
                    ],
                    "egress": [ { "namespace": "payments" }, { "cidr": "10.0.0.0/16" } ]
                }
            }),
        ),
    ]
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The case's input, its spec (validated) and its bundle.
fn render_case(name: &str, config: &Json) -> (Input, Vec<Manifest>) {
    let input: Input = serde_json::from_value(config.clone())
        .unwrap_or_else(|e| panic!("case {name}: input does not decode: {e}"));
    let spec = Spec::resolve(&input, &Input::default());
    let problems: Vec<String> = validate_input(&input)
        .into_iter()
        .chain(validate(&spec))
        .map(|p| format!("{}: {} ({})", display(&p.path), p.summary, p.detail))
        .collect();
    assert!(
        problems.is_empty(),
        "case {name} must be a valid app:\n{}",
        problems.join("\n")
    );
    (input, render(&spec))
}

/// Line diff (longest common subsequence), unified style: changed lines with three lines of
/// context, each hunk headed by its line numbers in the golden file and in the rendering.
fn diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (marker, line in golden, line in rendering, text)
    let mut ops: Vec<(char, usize, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i, j, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i, j, a[i]));
            i += 1;
        } else {
            ops.push(('+', i, j, b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = String::from("--- golden (expected)\n+++ rendered (actual)\n");
    let mut last_shown: Option<usize> = None;
    for (k, (marker, li, lj, text)) in ops.iter().enumerate() {
        if !near(k) {
            continue;
        }
        if last_shown.is_none_or(|l| l + 1 != k) {
            out.push_str(&format!("@@ -{} +{} @@\n", li + 1, lj + 1));
        }
        out.push_str(&format!("{marker}{text}\n"));
        last_shown = Some(k);
    }
    out
}

#[test]
fn bundles_match_their_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v != "0" && !v.is_empty());
    let dir = golden_dir();
    if update {
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    let mut failures = Vec::new();
    let cases = cases();
    for (name, config) in &cases {
        let (_, manifests) = render_case(name, config);
        let actual = to_yaml(&manifests);
        let file = dir.join(format!("{name}.yaml"));
        if update {
            std::fs::write(&file, &actual).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{name}: rendered bundle differs from {}\n{}",
                file.display(),
                diff(&expected, &actual)
            )),
            Err(e) => failures.push(format!(
                "{name}: cannot read {}: {e}\nrendered:\n{actual}",
                file.display()
            )),
        }
    }
    // A golden file without a case is a case someone removed or renamed.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let p = e.path();
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            if p.extension().is_some_and(|x| x == "yaml") && !cases.iter().any(|(n, _)| *n == stem)
            {
                failures.push(format!("{}: no case renders this file", p.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the change is intended, run `UPDATE_GOLDEN=1 cargo test -p terraform-provider-jke --test integration golden::` and review the diff.",
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// What a Kubernetes user expects of these bundles, checked on the objects themselves so that a
// regenerated golden file cannot silently lose it.

fn bundle(name: &str) -> Vec<Manifest> {
    let cases = cases();
    let (_, config) = cases
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    render_case(name, config).1
}

fn kinds(m: &[Manifest]) -> Vec<Kind> {
    m.iter().map(|m| m.kind).collect()
}

fn object(m: &[Manifest], kind: Kind) -> &Json {
    &m.iter()
        .find(|m| m.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {:?}", kinds(m)))
        .object
}

fn container(m: &[Manifest]) -> &Json {
    &object(m, Kind::Deployment)["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn web_app_has_the_production_bundle() {
    let m = bundle("web_defaults");
    assert_eq!(
        kinds(&m),
        [
            Kind::ServiceAccount,
            Kind::Deployment,
            Kind::Service,
            Kind::HorizontalPodAutoscaler,
            Kind::PodDisruptionBudget,
            Kind::NetworkPolicy
        ]
    );
    let d = object(&m, Kind::Deployment);
    // The HPA owns the replica count.
    assert_eq!(d["spec"].get("replicas"), None);
    let c = container(&m);
    assert_eq!(c["resources"]["requests"], c["resources"]["limits"]);
    assert_eq!(c["readinessProbe"]["tcpSocket"]["port"], "http");
    let hpa = object(&m, Kind::HorizontalPodAutoscaler);
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["maxReplicas"], 10);
}

#[test]
fn worker_has_no_service_and_no_readiness_probe() {
    let m = bundle("worker_without_ports");
    assert!(!kinds(&m).contains(&Kind::Service), "{:?}", kinds(&m));
    assert!(!kinds(&m).contains(&Kind::Ingress));
    let c = container(&m);
    assert_eq!(c.get("ports"), None);
    assert_eq!(c.get("readinessProbe"), None);
}

#[test]
fn autoscaling_off_has_fixed_replicas_and_no_hpa() {
    let m = bundle("autoscaling_off");
    assert!(!kinds(&m).contains(&Kind::HorizontalPodAutoscaler));
    assert_eq!(object(&m, Kind::Deployment)["spec"]["replicas"], 3);
}

#[test]
fn ingress_without_tls_has_no_tls_section_and_no_issuer() {
    let m = bundle("ingress_tls_off");
    let ing = object(&m, Kind::Ingress);
    assert_eq!(ing["spec"].get("tls"), None);
    let issuer = ing["metadata"]
        .get("annotations")
        .and_then(|a| a.get("cert-manager.io/cluster-issuer"));
    assert_eq!(issuer, None);
}

#[test]
fn ingress_routes_its_path_on_every_host() {
    let m = bundle("ingress_with_path");
    let ing = object(&m, Kind::Ingress);
    let rules = ing["spec"]["rules"].as_array().cloned().unwrap_or_default();
    assert_eq!(rules.len(), 2);
    for r in &rules {
        let p = &r["http"]["paths"][0];
        assert_eq!(p["path"], "/v1");
        assert_eq!(p["backend"]["service"]["name"], "api");
    }
    assert_eq!(ing["spec"]["ingressClassName"], "nginx");
    assert_eq!(ing["spec"]["tls"][0]["secretName"], "api-tls");
}

#[test]
fn several_ports_are_exposed_by_name() {
    let m = bundle("ports_several");
    let svc = object(&m, Kind::Service);
    let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let shown: Vec<(String, i64, String)> = ports
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_string(),
                p["port"].as_i64().unwrap_or_default(),
                p["protocol"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("http".into(), 8080, "TCP".into()),
            ("grpc".into(), 90, "TCP".into()),
            ("port-9100".into(), 9100, "TCP".into()),
            ("dns".into(), 5353, "UDP".into()),
        ]
    );
    for p in &ports {
        assert_eq!(p["targetPort"], p["name"]);
    }
}

/// Every secret value of the case appears (base64) in the Secret and nowhere else, neither in
/// plain text nor encoded.
fn assert_secret_values_only_in_the_secret(case: &str) {
    use base64::Engine;
    let cases = cases();
    let (_, config) = cases
        .iter()
        .find(|(n, _)| *n == case)
        .unwrap_or_else(|| panic!("no case {case}"));
    let (input, m) = render_case(case, config);
    let values: Vec<String> = input
        .secret_env
        .iter()
        .chain(input.secret_env_wo.iter())
        .flat_map(|m| m.values().cloned())
        .collect();
    assert!(!values.is_empty());
    let secret = object(&m, Kind::Secret);
    for v in &values {
        let b64 = base64::engine::general_purpose::STANDARD.encode(v);
        let in_secret = secret["data"]
            .as_object()
            .is_some_and(|d| d.values().any(|x| x == &Json::String(b64.clone())));
        assert!(in_secret, "{case}: {v:?} is not in the Secret");
        for o in m.iter().filter(|o| o.kind != Kind::Secret) {
            let text = o.object.to_string();
            assert!(
                !text.contains(v.as_str()) && !text.contains(&b64),
                "{case}: a secret value appears in {}",
                o.key()
            );
        }
    }
    let c = container(&m);
    assert_eq!(
        c["envFrom"][0]["secretRef"]["name"],
        format!("{}-env", input.name.unwrap_or_default())
    );
    assert!(
        object(&m, Kind::Deployment)["spec"]["template"]["metadata"]["annotations"]
            .get("jke.dev/secret-checksum")
            .is_some()
    );
}

#[test]
fn secret_values_appear_only_in_the_secret() {
    assert_secret_values_only_in_the_secret("secret_env");
    assert_secret_values_only_in_the_secret("secret_env_wo_only");
}

#[test]
fn create_namespace_renders_the_namespace_first() {
    let m = bundle("create_namespace");
    assert_eq!(m[0].kind, Kind::Namespace);
    assert_eq!(m[0].name, "shop");
    assert!(
        m[1..]
            .iter()
            .all(|o| o.namespace.as_deref() == Some("shop"))
    );
}

#[test]
fn every_probe_kind_renders_its_check() {
    let m = bundle("probe_http");
    let c = container(&m);
    for (probe, path) in [
        ("readinessProbe", "/ready"),
        ("livenessProbe", "/healthz"),
        ("startupProbe", "/started"),
    ] {
        assert_eq!(c[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(c[probe]["httpGet"]["port"], "http", "{probe}");
        assert_eq!(c[probe].get("tcpSocket"), None, "{probe}");
    }
    let m = bundle("probe_tcp");
    let c = container(&m);
    for (probe, port) in [
        ("readinessProbe", "redis"),
        ("livenessProbe", "redis"),
        ("startupProbe", "metrics"),
    ] {
        assert_eq!(c[probe]["tcpSocket"]["port"], port, "{probe}");
        assert_eq!(c[probe].get("httpGet"), None, "{probe}");
    }
}
