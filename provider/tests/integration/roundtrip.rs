//! Properties of planning and resolving `jke_application`, for arbitrary valid inputs:
//!
//! (a) the planned state decodes back to the planned spec, and encoding that spec again gives
//!     the planned state (state decodes straight into the resolved spec);
//! (b) resolving an already resolved spec changes nothing (a spec read back as an `Input`
//!     and resolved against no provider defaults is the same spec), also when the spec was
//!     first resolved over provider defaults.

use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};
use terraform_provider_jke::app::application::bundle::render;
use terraform_provider_jke::app::application::spec::{Input, Spec};
use terraform_provider_jke::app::application::validate::{validate, validate_input};
use terraform_provider_jke::app::report::display;
use terraform_provider_jke::resources::application::plan;
use terraform_provider_jke::resources::convert;

const CPU: [&str; 5] = ["100m", "250m", "500m", "1", "2"];
const MEMORY: [&str; 5] = ["128Mi", "512Mi", "1Gi", "2Gi", "4Gi"];

fn dns_label() -> impl Strategy<Value = String> {
    // Not the cluster's own namespaces, nor the namespace's `default` account (refused).
    "[a-z]([a-z0-9-]{0,14}[a-z0-9])?".prop_filter("reserved", |s: &String| {
        !s.starts_with("kube-") && s != "default"
    })
}

fn image() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("nginx:1.27".to_string()),
        "[a-z]{1,8}(/[a-z]{1,8})?:[0-9]\\.[0-9]{1,2}",
        "ghcr\\.io/[a-z]{1,6}/[a-z]{1,6}@sha256:[0-9a-f]{64}",
    ]
}

/// A request and a limit at least as large (or no limit: limits follow requests).
fn request_and_limit(
    set: &'static [&'static str],
) -> impl Strategy<Value = (String, Option<String>)> {
    (0..set.len()).prop_flat_map(move |i| {
        (
            Just(set[i].to_string()),
            option::of((i..set.len()).prop_map(move |j| set[j].to_string())),
        )
    })
}

fn env_map(prefix: &'static str) -> impl Strategy<Value = Option<Map<String, Json>>> {
    option::of(btree_map("[A-Z0-9_]{0,8}", "[ -~]{0,12}", 0..4)).prop_map(move |m| {
        m.map(|m| {
            m.into_iter()
                .map(|(k, v)| (format!("{prefix}{k}"), Json::String(v)))
                .collect::<Map<_, _>>()
        })
    })
}

/// No port, `port`, or a `ports` list of distinct container ports (names left to the default
/// or given once each).
fn ports() -> impl Strategy<Value = Map<String, Json>> {
    prop_oneof![
        Just(Map::new()),
        (1i64..=65535).prop_map(|p| Map::from_iter([("port".to_string(), json!(p))])),
        btree_set(1i64..=65535, 1..4).prop_flat_map(|set| {
            let list: Vec<i64> = set.into_iter().collect();
            let n = list.len();
            (Just(list), vec(any::<bool>(), n)).prop_map(|(list, named)| {
                let ports: Vec<Json> = list
                    .iter()
                    .zip(named)
                    .enumerate()
                    .map(|(i, (p, named))| {
                        let mut o = json!({"container_port": p});
                        if named {
                            o["name"] = json!(format!("p{i}"));
                        }
                        o
                    })
                    .collect();
                Map::from_iter([("ports".to_string(), Json::Array(ports))])
            })
        }),
    ]
}

fn autoscale() -> impl Strategy<Value = Option<Json>> {
    option::of(
        (any::<bool>(), 1i64..=10, 0i64..=10, option::of(10i64..=90)).prop_map(
            |(enabled, min, extra, cpu)| {
                let mut a =
                    json!({"enabled": enabled, "min_replicas": min, "max_replicas": min + extra});
                if let Some(c) = cpu {
                    a["target_cpu_utilization"] = json!(c);
                }
                a
            },
        ),
    )
}

fn ingress() -> impl Strategy<Value = Json> {
    (
        btree_set("[a-z]{1,8}\\.example\\.com", 1..3),
        option::of(any::<bool>()),
        option::of(prop_oneof![Just("/"), Just("/api"), Just("/v1/orders")]),
    )
        .prop_map(|(hosts, tls, path)| {
            let mut i = json!({"hosts": hosts.into_iter().collect::<Vec<_>>()});
            if let Some(t) = tls {
                i["tls"] = json!(t);
            }
            if let Some(p) = path {
                i["path"] = json!(p);
            }
            i
        })
}

/// A probe checking the app's first port: by HTTP, by TCP, or left to the defaults.
fn probe() -> impl Strategy<Value = Json> {
    (
        prop_oneof![
            Just(json!({})),
            Just(json!({"tcp": true})),
            Just(json!({"http_path": "/healthz"})),
        ],
        option::of(0i64..=30),
        option::of(1i64..=10),
    )
        .prop_map(|(mut p, delay, failures)| {
            if let Some(d) = delay {
                p["initial_delay_seconds"] = json!(d);
            }
            if let Some(f) = failures {
                p["failure_threshold"] = json!(f);
            }
            p
        })
}

/// Settings that need the app to have a port: service type, ingress, probes.
#[derive(Clone, Debug)]
struct Served {
    service_type: Option<&'static str>,
    ingress: Option<Json>,
    readiness: Option<Json>,
    liveness: Option<Json>,
}

fn served() -> impl Strategy<Value = Served> {
    (
        option::of(prop_oneof![
            Just("ClusterIP"),
            Just("NodePort"),
            Just("LoadBalancer")
        ]),
        option::of(ingress()),
        option::of(probe()),
        option::of(probe()),
    )
        .prop_map(|(service_type, ingress, readiness, liveness)| Served {
            service_type,
            ingress,
            readiness,
            liveness,
        })
}

/// A valid `jke_application` configuration, as the JSON of its attributes.
fn config() -> impl Strategy<Value = Json> {
    (
        (dns_label(), option::of(dns_label()), image(), ports()),
        (request_and_limit(&CPU), request_and_limit(&MEMORY)),
        (option::of(1i64..=20), autoscale()),
        (env_map("E_"), env_map("S_"), option::of(1i64..=5)),
        (served(), option::of(any::<bool>())),
        (
            option::of(btree_map("[a-z]{1,6}", "[a-z0-9]{1,6}", 0..3)),
            option::of(prop_oneof![
                Just(json!({"max_unavailable": "25%"})),
                Just(json!({"min_available": "50%"})),
                Just(json!({"enabled": false})),
            ]),
        ),
    )
        .prop_map(
            |(
                (name, namespace, image, ports),
                ((cpu, cpu_limit), (memory, memory_limit)),
                (replicas, autoscale),
                (env, secret_env, secret_env_version),
                (served, create_namespace),
                (labels, disruption_budget),
            )| {
                let has_port = !ports.is_empty();
                let mut c = Map::new();
                c.insert("name".into(), json!(name));
                c.insert("image".into(), json!(image));
                c.extend(ports);
                let mut put = |k: &str, v: Option<Json>| {
                    if let Some(v) = v {
                        c.insert(k.into(), v);
                    }
                };
                put("namespace", namespace.map(Json::String));
                put("cpu", Some(json!(cpu)));
                put("cpu_limit", cpu_limit.map(Json::String));
                put("memory", Some(json!(memory)));
                put("memory_limit", memory_limit.map(Json::String));
                put("replicas", replicas.map(Json::from));
                put("autoscale", autoscale);
                put("env", env.map(Json::Object));
                put("secret_env", secret_env.map(Json::Object));
                put("secret_env_version", secret_env_version.map(Json::from));
                if has_port {
                    put("service", served.service_type.map(|t| json!({"type": t})));
                    put("ingress", served.ingress);
                    put("readiness_probe", served.readiness);
                    put("liveness_probe", served.liveness);
                }
                put("create_namespace", create_namespace.map(Json::Bool));
                put("labels", labels.map(|l| json!(l)));
                put("disruption_budget", disruption_budget);
                Json::Object(c)
            },
        )
}

/// Provider `defaults` the SRE team might set (every one optional).
fn provider_defaults() -> impl Strategy<Value = Json> {
    (
        option::of(dns_label()),
        option::of(prop_oneof![
            Just("ClusterIP"),
            Just("NodePort"),
            Just("LoadBalancer")
        ]),
        option::of(btree_map("[a-z]{1,6}", "[a-z0-9]{1,6}", 1..3)),
        option::of(Just(json!({"max_unavailable": "25%"}))),
        option::of(20i64..=60),
    )
        .prop_map(|(namespace, service_type, labels, budget, grace)| {
            let mut d = Map::new();
            if let Some(n) = namespace {
                d.insert("namespace".into(), json!(n));
            }
            if let Some(t) = service_type {
                d.insert("service".into(), json!({"type": t}));
            }
            if let Some(l) = labels {
                d.insert("labels".into(), json!(l));
            }
            if let Some(b) = budget {
                d.insert("disruption_budget".into(), b);
            }
            if let Some(g) = grace {
                d.insert("termination_grace_period".into(), json!(g));
            }
            Json::Object(d)
        })
}

fn input(j: &Json) -> Input {
    serde_json::from_value(j.clone()).unwrap_or_else(|e| panic!("{j} is not an Input: {e}"))
}

fn problems(i: &Input, s: &Spec) -> Vec<String> {
    validate_input(i)
        .into_iter()
        .chain(validate(s))
        .map(|p| format!("{}: {}", display(&p.path), p.detail))
        .collect()
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn planned_state_decodes_to_the_planned_spec(c in config()) {
        // The generator makes valid apps only; a problem here is a generator or domain bug.
        let i = input(&c);
        let resolved = Spec::resolve(&i, &Input::default());
        let p = problems(&i, &resolved);
        prop_assert!(p.is_empty(), "generated config is not valid: {c}\n{}", p.join("\n"));

        let value = convert::from_json(&c, plan::resource_type());
        let (spec, planned, diags) = plan::planned_state(&value, &Input::default(), false)
            .map_err(|d| TestCaseError::fail(format!("{d:?}")))?;
        prop_assert!(diags.is_empty(), "{c}: {diags:?}");
        prop_assert_eq!(&spec, &resolved);
        let (back, drift) = plan::decode_state(&planned)
            .map_err(|d| TestCaseError::fail(format!("{d:?}")))?;
        prop_assert!(drift.is_empty());
        prop_assert_eq!(&back, &spec, "config {}", c);
        // The owner mark is made at create: unknown in every plan of a new app.
        let mut again = plan::encode_state(&back, &render(&back), &drift, None);
        convert::set_at(
            &mut again,
            &[terraform_provider_jke::plugin::PathStep::Attr("owner_id".into())],
            terraform_provider_jke::plugin::Value::Unknown,
        );
        prop_assert_eq!(again, planned, "config {}", c);
    }

    #[test]
    fn resolving_a_resolved_spec_changes_nothing(c in config(), d in provider_defaults()) {
        for defaults in [Input::default(), input(&d)] {
            let spec = Spec::resolve(&input(&c), &defaults);
            let again = Spec::resolve(&input(&serde_json::to_value(&spec).map_err(|e| TestCaseError::fail(e.to_string()))?), &Input::default());
            prop_assert_eq!(&again, &spec, "config {} defaults {:?}", c, defaults);
        }
    }
}
