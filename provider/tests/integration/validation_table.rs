//! The bad inputs of `tests/e2e/test_validation.py` (`BAD_INPUTS`), run on the domain
//! validator without Terraform: each row is the resource's attributes as JSON (what the HCL
//! of the e2e case decodes to), merged over a valid base app the way the e2e test builds its
//! blocks, the attribute path the problem must be reported at (as `display(path)` prints
//! it) and the fragment its detail must contain (the same fragment the e2e test asserts).
//!
//! Coverage: every one of the e2e test's 67 `BAD_INPUTS` is here; all of them are attributes
//! of one `jke_application` with values of the right Terraform type, so the domain validator
//! decides each of them. Not representable at this level, because they are not decisions of
//! `validate_input`/`validate`:
//! - `test_schema_lists_jke_application_with_descriptions`: the schema (descriptions,
//!   `required`, `write_only`, nested types) is the resource layer's, not the validator's.
//! - `test_valid_app_plans_defaults_without_a_cluster`, `test_provider_defaults_apply_and_the_resource_wins`:
//!   planned values and provider `defaults`, not bad inputs (`Spec::resolve` unit tests and
//!   `tests/roundtrip.rs` cover resolution).
//! - `test_unknown_values_pass_validation_and_stay_unknown`: unknown values exist only as
//!   Terraform values; dropping problems that involve them is `convert::Decoded::diagnostics`.
//! - `test_plan_with_unknown_connection_values_needs_no_cluster`: provider configuration.
//! - `test_write_only_secrets_never_reach_plan_or_state`: plan/state encoding.
//! - `test_quickstart_example_validates`: a whole example configuration.
//!
//! Type errors (a string for a number, an unknown attribute) are rejected by Terraform
//! against the schema before the provider sees them; the e2e test sends none.
//!
//! Difference from the e2e check: Terraform shows only the line of the top-level attribute,
//! so the e2e test checks the top-level name; here the full path must match.

use serde_json::{Value as Json, json};
use terraform_provider_jke::app::application::spec::{Input, Spec};
use terraform_provider_jke::app::application::validate::{validate, validate_input};
use terraform_provider_jke::app::report::{Invalid, display};
use terraform_provider_jke::plugin::AttrPath;
use terraform_provider_jke::resources::application::plan::resource_type;
use terraform_provider_jke::resources::convert;

/// (e2e attributes as JSON, expected path, fragment of the detail).
fn rows() -> Vec<(Json, &'static str, &'static str)> {
    let long_name = "a".repeat(60);
    vec![
        (
            json!({"name": "Web"}),
            "name",
            "\"Web\" must be a DNS label",
        ),
        (json!({"name": "web_app"}), "name", "DNS label"),
        (json!({"name": "-web"}), "name", "DNS label"),
        (json!({"name": "1web"}), "name", "starting with a letter"),
        (json!({"name": long_name}), "name", "at most 59"),
        (json!({"namespace": "Team A"}), "namespace", "DNS label"),
        (json!({"image": ""}), "image", "container image"),
        (json!({"image": "nginx latest"}), "image", "container image"),
        (
            json!({"memory": "2Gb"}),
            "memory",
            "\"2Gb\" is not a Kubernetes quantity",
        ),
        (json!({"memory": "-1"}), "memory", "quantity"),
        (json!({"cpu": "one"}), "cpu", "quantity"),
        (json!({"cpu": "0"}), "cpu", "greater than zero"),
        (
            json!({"cpu": "2", "cpu_limit": "1"}),
            "cpu_limit",
            "less than cpu",
        ),
        (
            json!({"memory_limit": "1Gi"}),
            "memory_limit",
            "less than memory",
        ),
        (json!({"port": 0}), "port", "outside 1..65535"),
        (json!({"port": 70000}), "port", "outside 1..65535"),
        (
            json!({"ports": [{"container_port": 80}, {"container_port": 80}]}),
            "ports[1].container_port",
            "more than once",
        ),
        (
            json!({"ports": [{"container_port": 80, "name": "HTTP"}]}),
            "ports[0].name",
            "port name",
        ),
        (
            json!({"ports": [{"container_port": 80, "name": "a-very-long-port-name"}]}),
            "ports[0].name",
            "at most 15",
        ),
        (
            json!({"ports": [{"container_port": 80, "protocol": "HTTP"}]}),
            "ports[0].protocol",
            "\"TCP\", \"UDP\" or \"SCTP\"",
        ),
        (
            json!({"ports": [{"container_port": 80, "service_port": 99999}]}),
            "ports[0].service_port",
            "outside 1..65535",
        ),
        (
            json!({"port": 80, "ports": [{"container_port": 81}]}),
            "ports",
            "either port",
        ),
        (
            json!({"env": {"1BAD": "x"}}),
            "env[\"1BAD\"]",
            "must start with a letter",
        ),
        (
            json!({"env": {"DB": "a"}, "secret_env": {"DB": "b"}}),
            "secret_env[\"DB\"]",
            "set in both env and secret_env",
        ),
        (json!({"replicas": -1}), "replicas", "between 0 and 1000"),
        (
            json!({"autoscale": {"min_replicas": 5, "max_replicas": 3}}),
            "autoscale.max_replicas",
            "at least min_replicas",
        ),
        (
            json!({"autoscale": {"min_replicas": 0}}),
            "autoscale.min_replicas",
            "between 1 and 1000",
        ),
        (
            json!({"autoscale": {"target_cpu_utilization": 0}}),
            "autoscale.target_cpu_utilization",
            "between 1 and 1000",
        ),
        (
            json!({"disruption_budget": {"max_unavailable": "1", "min_available": "1"}}),
            "disruption_budget.min_available",
            "not both",
        ),
        (
            json!({"disruption_budget": {"max_unavailable": "many"}}),
            "disruption_budget.max_unavailable",
            "percentage",
        ),
        (
            json!({"disruption_budget": {"max_unavailable": "0"}}),
            "disruption_budget.max_unavailable",
            "never lets a node drain",
        ),
        (
            json!({"disruption_budget": {"min_available": "2"}}),
            "disruption_budget.min_available",
            "not below the replica count",
        ),
        (
            json!({"service": {"type": "External"}}),
            "service.type",
            "\"ClusterIP\", \"NodePort\" or \"LoadBalancer\"",
        ),
        (
            json!({"service": {"external_traffic_policy": "Local"}}),
            "service.external_traffic_policy",
            "applies only to",
        ),
        (
            json!({"service": {"type": "LoadBalancer", "external_traffic_policy": "Nearest"}}),
            "service.external_traffic_policy",
            "\"Local\" or \"Cluster\"",
        ),
        (
            json!({"ingress": {"hosts": []}}),
            "ingress.hosts",
            "at least one host",
        ),
        (
            json!({"ingress": {"hosts": ["Shop.Example.com"]}}),
            "ingress.hosts[0]",
            "fully qualified lowercase",
        ),
        (
            json!({"ingress": {"hosts": ["shop.example.com"], "path": "shop"}}),
            "ingress.path",
            "must start with \"/\"",
        ),
        (
            json!({"readiness_probe": {"port": 9090}}),
            "readiness_probe.port",
            "not one of the app's container ports",
        ),
        (
            json!({"readiness_probe": {"http_path": "healthz"}}),
            "readiness_probe.http_path",
            "must start with \"/\"",
        ),
        (
            json!({"liveness_probe": {"http_path": "/healthz", "tcp": true}}),
            "liveness_probe.tcp",
            "not both",
        ),
        (
            json!({"liveness_probe": {"http_path": "/h", "success_threshold": 2}}),
            "liveness_probe.success_threshold",
            "must be 1",
        ),
        (
            json!({"readiness_probe": {"period_seconds": 0}}),
            "readiness_probe.period_seconds",
            "between 1 and 3600",
        ),
        (
            json!({"termination_grace_period": -5}),
            "termination_grace_period",
            "between 0 and 3600",
        ),
        (
            json!({"pre_stop_sleep": 40}),
            "pre_stop_sleep",
            "shorter than termination_grace_period",
        ),
        (
            json!({"topology_spread": {"max_skew": 0}}),
            "topology_spread.max_skew",
            "between 1 and 100",
        ),
        (
            json!({"labels": {"app.kubernetes.io/name": "x"}}),
            "labels[\"app.kubernetes.io/name\"]",
            "set by JKE itself",
        ),
        (
            json!({"labels": {"team": "a b"}}),
            "labels[\"team\"]",
            "label values",
        ),
        (
            json!({"annotations": {"bad key!": "x"}}),
            "annotations[\"bad key!\"]",
            "annotations key",
        ),
        (
            json!({"rollout": {"timeout": "5 minutes"}}),
            "rollout.timeout",
            "duration",
        ),
        (
            json!({"rollout": {"max_surge": "0", "max_unavailable": "0"}}),
            "rollout.max_unavailable",
            "both zero",
        ),
        (
            json!({"rollout": {"progress_deadline_seconds": 0}}),
            "rollout.progress_deadline_seconds",
            "between 1 and 86400",
        ),
        (
            json!({"security": {"profile": "strict"}}),
            "security.profile",
            "\"baseline\" (the default) or \"restricted\"",
        ),
        (
            json!({"security": {"profile": "restricted", "run_as_user": 0}}),
            "security.run_as_user",
            "breaks the profile \"restricted\"",
        ),
        (
            json!({"security": {"capabilities_add": ["SYS_ADMIN"]}}),
            "security.capabilities_add[0]",
            "\"SYS_ADMIN\" breaks the profile \"baseline\"",
        ),
        (
            json!({"network_policy": {"allow_from": [{"cidr": "10.0.0.0/33"}]}}),
            "network_policy.allow_from[0].cidr",
            "is not an address range",
        ),
        (
            json!({"network_policy": {"egress": [{}]}}),
            "network_policy.egress[0]",
            "selects nothing",
        ),
        (
            json!({"ephemeral_storage": "4Gi", "ephemeral_storage_limit": "1Gi"}),
            "ephemeral_storage_limit",
            "less than ephemeral_storage",
        ),
        (
            json!({"replicas": 1.5}),
            "replicas",
            "replicas = 1.5 must be a whole number",
        ),
        (
            json!({"port": 80.5}),
            "port",
            "port = 80.5 must be a whole number",
        ),
        (
            json!({"disruption_budget": {"min_available": "100%"}}),
            "disruption_budget.min_available",
            "never lets a node drain",
        ),
        (
            json!({"disruption_budget": {"max_unavailable": "0%"}}),
            "disruption_budget.max_unavailable",
            "never lets a node drain",
        ),
        (
            json!({"service": {"annotations": {"bad key!": "x"}}}),
            "service.annotations[\"bad key!\"]",
            "service.annotations key",
        ),
        (
            json!({"service_account": {"annotations": {"bad key!": "x"}}}),
            "service_account.annotations[\"bad key!\"]",
            "service_account.annotations key",
        ),
        (
            json!({"ingress": {"hosts": ["shop.example.com"], "annotations": {"bad key!": "x"}}}),
            "ingress.annotations[\"bad key!\"]",
            "ingress.annotations key",
        ),
        (
            json!({"node_selector": {"kubernetes.io/os": "linux os"}}),
            "node_selector[\"kubernetes.io/os\"]",
            "node labels are at most 63",
        ),
        (
            json!({"ingress": {"hosts": ["shop.example.com"], "path": "/shop//api"}}),
            "ingress.path",
            "must not contain \"//\"",
        ),
    ]
}

/// The valid app every e2e block starts from: a name, an image and `port = 8080`. As in the
/// e2e test, a row that sets `ports` (a list) gets no `port` from the base.
fn base() -> Json {
    json!({"name": "app", "image": "nginx:1.27", "port": 8080})
}

fn merged(row: &Json) -> Json {
    let mut app = base();
    let (Some(obj), Some(over)) = (app.as_object_mut(), row.as_object()) else {
        panic!("rows and the base are objects: {row}");
    };
    if over.contains_key("ports") && !over.contains_key("port") {
        obj.remove("port");
    }
    for (k, v) in over {
        obj.insert(k.clone(), v.clone());
    }
    app
}

/// Every problem of the input and its resolved spec (no provider defaults), as (path,
/// detail). A number that is not whole never reaches the model: decoding the Terraform
/// value names it first, as it does for the provider.
fn problems(config: &Json) -> Vec<(String, String)> {
    let value = convert::from_json(config, resource_type());
    let fractions = convert::whole_number_errors(&value, &AttrPath::root());
    if fractions.has_errors() {
        return fractions
            .0
            .into_iter()
            .map(|d| (d.path.map(|p| p.to_string()).unwrap_or_default(), d.detail))
            .collect();
    }
    let input: Input = serde_json::from_value(config.clone())
        .unwrap_or_else(|e| panic!("{config} does not decode as an Input: {e}"));
    let spec = Spec::resolve(&input, &Input::default());
    validate_input(&input)
        .into_iter()
        .chain(validate(&spec))
        .map(|p: Invalid| (display(&p.path), p.detail))
        .collect()
}

fn shown(problems: &[(String, String)]) -> String {
    problems
        .iter()
        .map(|(path, detail)| format!("  {path}: {detail}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_base_app_is_valid() {
    let p = problems(&base());
    assert!(p.is_empty(), "the base app must be valid:\n{}", shown(&p));
}

#[test]
fn the_table_has_every_e2e_bad_input() {
    // tests/e2e/test_validation.py BAD_INPUTS has 67 rows; keep the two in step.
    assert_eq!(rows().len(), 67);
}

#[test]
fn every_bad_input_is_reported_at_its_path_with_the_e2e_fragment() {
    let mut missing = Vec::new();
    for (i, (row, path, fragment)) in rows().iter().enumerate() {
        let config = merged(row);
        let found = problems(&config);
        let ok = found
            .iter()
            .any(|(at, detail)| at == path && detail.contains(fragment));
        if !ok {
            missing.push(format!(
                "row {i}: {row}\n  expected at {path}: ...{fragment}...\n  got:\n{}",
                shown(&found)
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} rows not reported as expected:\n{}",
        missing.len(),
        rows().len(),
        missing.join("\n")
    );
}
