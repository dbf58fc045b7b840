//! The tfplugin6 RPCs end to end over the real transport (unix socket + AutoMTLS), with
//! msgpack values as Terraform sends them, against a test provider.

use crate::fake_provider::{ACTION, FakeProvider, RESOURCE};
use crate::plugin_client::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use terraform_provider_jke::plugin::codec::{decode_msgpack, encode_msgpack};
use terraform_provider_jke::plugin::go_plugin::Shutdown;
use terraform_provider_jke::plugin::proto::tfplugin6::{
    self as pb, provider_client::ProviderClient,
};
use terraform_provider_jke::plugin::{Type, Value, serve};
use tokio::time::timeout;
use tonic::transport::Channel;

const T: Duration = Duration::from_secs(10);

struct Harness {
    channel: Channel,
    client: ProviderClient<Channel>,
    provider: Arc<FakeProvider>,
    shutdown: Shutdown,
    ty: Type,
}

impl Harness {
    async fn start(tag: &str) -> Harness {
        let cert = client_cert();
        let (opts, line) = plugin_opts(socket_dir(tag), Some(cert.pem.clone()));
        let shutdown = opts.shutdown.clone();
        let provider = Arc::new(FakeProvider::new());
        tokio::spawn(serve(provider.clone(), opts));
        let hs = parse_handshake(&timeout(T, line).await.unwrap().unwrap());
        let channel = connect_mtls(hs.address, &hs.server_cert_der.unwrap(), &cert)
            .await
            .unwrap();
        Harness {
            client: ProviderClient::new(channel.clone()),
            channel,
            provider,
            shutdown,
            ty: crate::fake_provider::resource_schema().block.value_type(),
        }
    }

    fn dv(&self, v: &Value) -> Option<pb::DynamicValue> {
        Some(pb::DynamicValue {
            msgpack: encode_msgpack(v, &self.ty).unwrap(),
            json: vec![],
        })
    }

    fn value(&self, dv: &Option<pb::DynamicValue>) -> Value {
        decode_msgpack(&dv.as_ref().expect("a value").msgpack, &self.ty).unwrap()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

fn obj(kvs: &[(&str, Value)]) -> Value {
    Value::Object(
        kvs.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn caps(write_only: bool) -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: write_only,
    })
}

fn path_steps(p: &Option<pb::AttributePath>) -> Vec<String> {
    use pb::attribute_path::step::Selector;
    p.as_ref()
        .map(|p| {
            p.steps
                .iter()
                .map(|s| match s.selector.as_ref().unwrap() {
                    Selector::AttributeName(a) => format!("attr:{a}"),
                    Selector::ElementKeyString(k) => format!("key:{k}"),
                    Selector::ElementKeyInt(i) => format!("index:{i}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn schema_metadata_and_identity() {
    let mut h = Harness::start("schema").await;
    let resp = h
        .client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let caps = resp.server_capabilities.unwrap();
    assert!(caps.plan_destroy);
    assert!(!caps.get_provider_schema_optional);
    let provider = resp.provider.unwrap();
    assert_eq!(provider.block.unwrap().attributes[0].name, "namespace");

    let schema = &resp.resource_schemas[RESOURCE];
    assert_eq!(schema.version, 1);
    let block = schema.block.as_ref().unwrap();
    assert_eq!(block.description_kind, pb::StringKind::Markdown as i32);
    let attr = |n: &str| block.attributes.iter().find(|a| a.name == n).unwrap();

    let env = attr("env");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&env.r#type).unwrap(),
        serde_json::json!(["map", "string"])
    );
    assert!(env.optional && !env.required && !env.computed);
    assert_eq!(env.description, "Environment.");
    assert_eq!(env.description_kind, pb::StringKind::Markdown as i32);
    assert!(attr("name").required);
    assert!(attr("secret_env").sensitive);
    assert!(attr("secret_wo").write_only);

    let autoscale = attr("autoscale");
    assert!(
        autoscale.r#type.is_empty(),
        "nested attributes carry no type"
    );
    let nested = autoscale.nested_type.as_ref().unwrap();
    assert_eq!(
        nested.nesting,
        pb::schema::object::NestingMode::Single as i32
    );
    assert!(autoscale.optional && autoscale.computed);
    assert_eq!(nested.attributes.len(), 2);
    let ports = attr("ports").nested_type.as_ref().unwrap();
    assert_eq!(ports.nesting, pb::schema::object::NestingMode::List as i32);
    assert!(
        ports
            .attributes
            .iter()
            .any(|a| a.name == "token_wo" && a.write_only)
    );

    let meta = h
        .client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(meta.resources[0].type_name, RESOURCE);
    assert!(meta.server_capabilities.unwrap().plan_destroy);

    let ids = h
        .client
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    let id = &ids.identity_schemas[RESOURCE];
    let names: Vec<_> = id
        .identity_attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["namespace", "name"]);
    assert!(id.identity_attributes[1].required_for_import);
    assert_eq!(id.identity_attributes[1].r#type, b"\"string\"");
}

#[tokio::test]
async fn unimplemented_rpcs_answer_unimplemented() {
    let h = Harness::start("unimpl").await;
    // A method this provider does not serve, called the way Terraform would.
    let mut grpc = tonic::client::Grpc::new(h.channel.clone());
    grpc.ready().await.unwrap();
    let codec =
        tonic_prost::ProstCodec::<pb::get_metadata::Request, pb::get_metadata::Response>::default();
    let err = grpc
        .unary(
            tonic::Request::new(pb::get_metadata::Request {}),
            "/tfplugin6.Provider/GetFunctions".parse().unwrap(),
            codec,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn configure_and_validate_with_paths() {
    let mut h = Harness::start("validate").await;
    let provider_ty = Type::object([("namespace", Type::String)]);
    let resp = h
        .client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.0".into(),
            config: Some(pb::DynamicValue {
                msgpack: encode_msgpack(
                    &obj(&[("namespace", Value::string("apps"))]),
                    &provider_ty,
                )
                .unwrap(),
                json: vec![],
            }),
            client_capabilities: caps(true),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    let (version, config) = h.provider.configured.lock().unwrap().clone().unwrap();
    assert_eq!(version, "1.15.0");
    assert_eq!(config.get("namespace"), Some(&Value::string("apps")));

    // Errors come back with attribute paths: attribute, list index, map key.
    let config = obj(&[
        ("name", Value::string("web")),
        ("port", Value::int(70000)),
        (
            "ports",
            Value::List(vec![
                obj(&[("container_port", Value::int(80))]),
                obj(&[("container_port", Value::int(0))]),
            ]),
        ),
        (
            "env",
            Value::Map([("A=B".to_string(), Value::string("x"))].into()),
        ),
    ]);
    let resp = h
        .client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: RESOURCE.into(),
            config: h.dv(&config),
            client_capabilities: caps(true),
        })
        .await
        .unwrap()
        .into_inner();
    let got: Vec<(i32, String, Vec<String>)> = resp
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.summary.clone(), path_steps(&d.attribute)))
        .collect();
    let error = pb::diagnostic::Severity::Error as i32;
    let warning = pb::diagnostic::Severity::Warning as i32;
    assert_eq!(
        got,
        vec![
            (error, "Invalid port".into(), vec!["attr:port".into()]),
            (
                error,
                "Invalid port".into(),
                vec![
                    "attr:ports".into(),
                    "index:1".into(),
                    "attr:container_port".into()
                ]
            ),
            (
                warning,
                "Odd variable name".into(),
                vec!["attr:env".into(), "key:A=B".into()]
            ),
        ]
    );
    assert_eq!(resp.diagnostics[0].detail, "port = 70000: must be 1..65535");

    // Unknown values pass through to the provider (and validate fine).
    let config = obj(&[("name", Value::string("web")), ("port", Value::Unknown)]);
    let resp = h
        .client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: RESOURCE.into(),
            config: h.dv(&config),
            client_capabilities: caps(true),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
}

#[tokio::test]
async fn write_only_values_need_a_terraform_that_supports_them() {
    let mut h = Harness::start("wo-validate").await;
    let config = obj(&[
        ("name", Value::string("web")),
        ("secret_wo", Value::string("s3cret")),
        (
            "ports",
            Value::List(vec![obj(&[
                ("container_port", Value::int(80)),
                ("token_wo", Value::string("t")),
            ])]),
        ),
    ]);
    let dv = h.dv(&config);
    let validate = |wo| pb::validate_resource_config::Request {
        type_name: RESOURCE.into(),
        config: dv.clone(),
        client_capabilities: caps(wo),
    };
    let ok = h
        .client
        .validate_resource_config(validate(true))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.diagnostics.is_empty());
    let old = h
        .client
        .validate_resource_config(validate(false))
        .await
        .unwrap()
        .into_inner();
    let paths: Vec<_> = old
        .diagnostics
        .iter()
        .map(|d| path_steps(&d.attribute))
        .collect();
    assert_eq!(
        paths,
        vec![
            vec!["attr:secret_wo".to_string()],
            vec![
                "attr:ports".into(),
                "index:0".into(),
                "attr:token_wo".into()
            ],
        ]
    );
    assert!(old.diagnostics[0].detail.contains("Terraform 1.11"));
}

#[tokio::test]
async fn plan_create_update_destroy() {
    let mut h = Harness::start("plan").await;
    let config = obj(&[
        ("name", Value::string("web")),
        ("secret_wo", Value::string("s3cret")),
        (
            "env",
            Value::Map([("A".to_string(), Value::Unknown)].into()),
        ),
    ]);
    // Create: prior state null, proposed = config with computed attributes unknown... as
    // Terraform builds it.
    let mut proposed = config.clone();
    if let Value::Object(m) = &mut proposed {
        m.insert("id".into(), Value::Unknown);
        m.insert("autoscale".into(), Value::Unknown);
    }
    let resp = h
        .client
        .plan_resource_change(plan_request(RESOURCE, None, h.dv(&proposed), h.dv(&config)))
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let planned = h.value(&resp.planned_state);
    assert_eq!(planned.get("id"), Some(&Value::Unknown));
    assert_eq!(planned.get("namespace"), Some(&Value::string("default")));
    assert_eq!(
        planned.get("env"),
        Some(&Value::Map([("A".to_string(), Value::Unknown)].into()))
    );
    assert_eq!(
        planned.get("secret_wo"),
        Some(&Value::Null),
        "write-only value nulled by the server"
    );
    assert_eq!(resp.planned_private, b"planned");
    assert_eq!(
        path_steps(&resp.requires_replace.first().cloned()),
        vec!["attr:name".to_string()]
    );
    let identity = resp.planned_identity.unwrap().identity_data.unwrap();
    let id_ty = crate::fake_provider::identity_schema().value_type();
    assert_eq!(
        decode_msgpack(&identity.msgpack, &id_ty).unwrap(),
        obj(&[
            ("namespace", Value::string("default")),
            ("name", Value::string("web"))
        ])
    );
    {
        let plans = h.provider.plans.lock().unwrap();
        let (prior, seen_proposed, seen_config) = &plans[0];
        assert_eq!(prior, &Value::Null, "create: prior state passed as null");
        assert_eq!(seen_proposed.get("id"), Some(&Value::Unknown));
        assert_eq!(seen_config.get("secret_wo"), Some(&Value::string("s3cret")));
    }

    // Destroy: proposed null passes through unchanged and the plan is null.
    let prior = obj(&[
        ("id", Value::string("default/web")),
        ("name", Value::string("web")),
        ("namespace", Value::string("default")),
    ]);
    let resp = h
        .client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: RESOURCE.into(),
            prior_state: h.dv(&prior),
            proposed_new_state: h.dv(&Value::Null),
            config: h.dv(&Value::Null),
            client_capabilities: caps(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    assert_eq!(h.value(&resp.planned_state), Value::Null);
    let plans = h.provider.plans.lock().unwrap();
    assert_eq!(plans[1].0.get("id"), Some(&Value::string("default/web")));
    assert_eq!(
        plans[1].1,
        Value::Null,
        "destroy: proposed state passed as null"
    );
}

fn plan_request(
    type_name: &str,
    prior: Option<pb::DynamicValue>,
    proposed: Option<pb::DynamicValue>,
    config: Option<pb::DynamicValue>,
) -> pb::plan_resource_change::Request {
    pb::plan_resource_change::Request {
        type_name: type_name.into(),
        // Terraform always sends the prior state, as msgpack nil for a create.
        prior_state: prior.or(Some(pb::DynamicValue {
            msgpack: vec![0xc0],
            json: vec![],
        })),
        proposed_new_state: proposed,
        config,
        client_capabilities: caps(true),
        ..Default::default()
    }
}

#[tokio::test]
async fn apply_read_import() {
    let mut h = Harness::start("apply").await;
    let config = obj(&[
        ("name", Value::string("web")),
        ("secret_wo", Value::string("s3cret")),
    ]);
    let planned = obj(&[
        ("id", Value::Unknown),
        ("name", Value::string("web")),
        ("namespace", Value::string("apps")),
    ]);
    let resp = h
        .client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: RESOURCE.into(),
            prior_state: h.dv(&Value::Null),
            planned_state: h.dv(&planned),
            config: h.dv(&config),
            planned_private: b"p".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    let state = h.value(&resp.new_state);
    assert_eq!(state.get("id"), Some(&Value::string("apps/web")));
    assert_eq!(state.get("secret_wo"), Some(&Value::Null));
    assert_eq!(resp.private, b"p");
    assert!(resp.new_identity.is_some());

    let read = h
        .client
        .read_resource(pb::read_resource::Request {
            type_name: RESOURCE.into(),
            current_state: resp.new_state.clone(),
            private: b"p".to_vec(),
            current_identity: resp.new_identity.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.value(&read.new_state), state);
    assert_eq!(read.new_identity, resp.new_identity);

    // Import by ID...
    let imp = h
        .client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: RESOURCE.into(),
            id: "apps/web".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imp.imported_resources.len(), 1);
    let r = &imp.imported_resources[0];
    assert_eq!(r.type_name, RESOURCE);
    let s = h.value(&r.state);
    assert_eq!(s.get("id"), Some(&Value::string("apps/web")));
    assert_eq!(
        s.get("port"),
        Some(&Value::Null),
        "missing attributes are null"
    );
    // ...and by identity.
    let id_ty = crate::fake_provider::identity_schema().value_type();
    let identity = obj(&[
        ("namespace", Value::string("ops")),
        ("name", Value::string("api")),
    ]);
    let imp = h
        .client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: RESOURCE.into(),
            id: String::new(),
            identity: Some(pb::ResourceIdentityData {
                identity_data: Some(pb::DynamicValue {
                    msgpack: encode_msgpack(&identity, &id_ty).unwrap(),
                    json: vec![],
                }),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let s = h.value(&imp.imported_resources[0].state);
    assert_eq!(s.get("id"), Some(&Value::string("ops/api")));
    // A bad ID is a diagnostic.
    let imp = h
        .client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: RESOURCE.into(),
            id: "nope".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(imp.imported_resources.is_empty());
    assert_eq!(imp.diagnostics[0].summary, "Invalid import ID");
}

#[tokio::test]
async fn upgrade_state_drops_removed_attributes() {
    let mut h = Harness::start("upgrade").await;
    let raw = serde_json::json!({
        "id": "apps/web",
        "name": "web",
        "namespace": "apps",
        "port": 8080,
        "env": {"A": "1"},
        "removed_attribute": "x",
        "ports": [{"container_port": 80, "old_nested": true}],
    });
    let resp = h
        .client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: RESOURCE.into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: serde_json::to_vec(&raw).unwrap(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let v = h.value(&resp.upgraded_state);
    assert_eq!(v.get("port"), Some(&Value::int(8080)));
    assert_eq!(v.get("secret_env"), Some(&Value::Null));
    assert_eq!(v.get("removed_attribute"), None);
    assert_eq!(
        v.get("ports"),
        Some(&Value::List(vec![obj(&[
            ("container_port", Value::int(80)),
            ("token_wo", Value::Null)
        ])]))
    );

    // State from a newer schema version is refused with a clear message.
    let resp = h
        .client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: RESOURCE.into(),
            version: 7,
            raw_state: Some(pb::RawState {
                json: serde_json::to_vec(&raw).unwrap(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.upgraded_state.is_none());
    assert!(resp.diagnostics[0].detail.contains("schema version 7"));

    // A type error in stored state names the path.
    let resp = h
        .client
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: RESOURCE.into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: br#"{"env": {"A": [1]}}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        path_steps(&resp.diagnostics[0].attribute),
        vec!["attr:env", "key:A"]
    );
}

#[tokio::test]
async fn bad_input_is_a_diagnostic_never_a_crash() {
    let mut h = Harness::start("bad").await;
    // Unknown resource type.
    let resp = h
        .client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "jke_nope".into(),
            config: h.dv(&Value::Null),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.diagnostics[0].summary, "Unknown resource type");
    assert!(resp.diagnostics[0].detail.contains("jke_test"));

    // Garbage msgpack, a truncated value, and a value of the wrong type.
    let good = encode_msgpack(&obj(&[("name", Value::string("web"))]), &h.ty).unwrap();
    let web = good.windows(3).position(|w| w == b"web").unwrap();
    let wrong_type = {
        let mut m = BTreeMap::new();
        m.insert("name".to_string(), Type::Number);
        encode_msgpack(&obj(&[("name", Value::int(3))]), &Type::Object(m)).unwrap()
    };
    for (bytes, path) in [
        (vec![0xc1, 0x00], vec![]),
        (good[..good.len() - 2].to_vec(), vec![]),
        // Cut inside the value of `name`.
        (good[..web + 1].to_vec(), vec!["attr:name".to_string()]),
        (wrong_type, vec!["attr:name".to_string()]),
    ] {
        let resp = h
            .client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: RESOURCE.into(),
                prior_state: h.dv(&Value::Null),
                proposed_new_state: Some(pb::DynamicValue {
                    msgpack: bytes.clone(),
                    json: vec![],
                }),
                config: h.dv(&Value::Null),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resp.diagnostics.len(), 1, "{bytes:?}");
        let d = &resp.diagnostics[0];
        assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
        assert!(d.summary.contains("proposed new state"), "{}", d.summary);
        assert_eq!(path_steps(&d.attribute), path, "{}", d.detail);
        assert!(resp.planned_state.is_none());
    }
}

#[tokio::test]
async fn stop_provider_reaches_the_provider() {
    let mut h = Harness::start("stop").await;
    let resp = h
        .client
        .stop_provider(pb::stop_provider::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.error, "");
    assert!(h.provider.stopped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn list_streams_results_up_to_the_limit_and_generated_config_is_config_only() {
    use tokio_stream::StreamExt;
    let mut h = Harness::start("list").await;
    let schema = h
        .client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.list_resource_schemas.contains_key(RESOURCE));
    assert!(schema.server_capabilities.unwrap().generate_resource_config);
    let list_ty = crate::fake_provider::list_schema().block.value_type();
    let config = |n: i64| {
        Some(pb::DynamicValue {
            msgpack: encode_msgpack(&obj(&[("count", Value::int(n))]), &list_ty).unwrap(),
            json: vec![],
        })
    };
    let mut stream = h
        .client
        .list_resource(pb::list_resource::Request {
            type_name: RESOURCE.into(),
            config: config(5),
            include_resource_object: true,
            limit: 2,
        })
        .await
        .unwrap()
        .into_inner();
    let mut events = Vec::new();
    while let Some(e) = timeout(T, stream.next()).await.unwrap() {
        events.push(e.unwrap());
    }
    let names: Vec<&str> = events.iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(names, ["obj-0", "obj-1"], "the stream ends at the limit");
    let first = h.value(&events[0].resource_object);
    assert_eq!(first.get("name"), Some(&Value::string("obj-0")));
    assert_eq!(
        first.get("secret_wo"),
        Some(&Value::Null),
        "write-only never leaves"
    );
    assert!(events[0].identity.is_some() && events[0].diagnostic.is_empty());

    // An unknown list type is one event with an error, not a gRPC failure.
    let mut bad = h
        .client
        .list_resource(pb::list_resource::Request {
            type_name: "jke_nothing".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let e = timeout(T, bad.next()).await.unwrap().unwrap().unwrap();
    assert!(e.identity.is_none() && e.diagnostic[0].summary.contains("Unknown list resource"));

    // The generated configuration has no computed-only or write-only values.
    let state = h.value(&events[0].resource_object);
    let generated = h
        .client
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: RESOURCE.into(),
            state: h.dv(&state),
        })
        .await
        .unwrap()
        .into_inner();
    let config = h.value(&generated.config);
    assert_eq!(config.get("id"), Some(&Value::Null));
    assert_eq!(config.get("name"), Some(&Value::string("obj-0")));
    assert_eq!(config.get("namespace"), Some(&Value::string("apps")));
}

#[tokio::test]
async fn actions_are_advertised_validated_planned_and_stream_progress() {
    let mut h = Harness::start("actions").await;
    let schema = h
        .client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let action = schema.action_schemas[ACTION].schema.as_ref().unwrap();
    assert_eq!(action.block.as_ref().unwrap().attributes[0].name, "steps");
    assert!(
        !schema.resource_schemas.contains_key(ACTION),
        "actions are only in their own (optional) field"
    );
    let meta = h
        .client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(meta.actions[0].type_name, ACTION);

    let ty = crate::fake_provider::action_schema().block.value_type();
    let dv = |v: Value| {
        Some(pb::DynamicValue {
            msgpack: encode_msgpack(&obj(&[("steps", v)]), &ty).unwrap(),
            json: vec![],
        })
    };
    let bad = h
        .client
        .validate_action_config(pb::validate_action_config::Request {
            type_name: ACTION.into(),
            config: dv(Value::int(-1)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bad.diagnostics.len(), 1);
    assert_eq!(path_steps(&bad.diagnostics[0].attribute), ["attr:steps"]);

    let planned = h
        .client
        .plan_action(pb::plan_action::Request {
            action_type: ACTION.into(),
            config: dv(Value::Unknown),
            client_capabilities: caps(true),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(planned.diagnostics[0].summary, "Unknown steps");

    let mut events = h
        .client
        .invoke_action(pb::invoke_action::Request {
            action_type: ACTION.into(),
            config: dv(Value::int(3)),
            client_capabilities: caps(true),
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(e) = events.message().await.unwrap() {
        got.push(match e.r#type.unwrap() {
            pb::invoke_action::event::Type::Progress(p) => p.message,
            pb::invoke_action::event::Type::Completed(c) => {
                format!("completed: {}", c.diagnostics[0].detail)
            }
        });
    }
    assert_eq!(
        got,
        ["1/3 steps", "2/3 steps", "3/3 steps", "completed: 3 steps"]
    );

    let unknown = h
        .client
        .invoke_action(pb::invoke_action::Request {
            action_type: "jke_nothing".into(),
            config: dv(Value::int(1)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner()
        .message()
        .await
        .unwrap()
        .unwrap();
    let Some(pb::invoke_action::event::Type::Completed(c)) = unknown.r#type else {
        panic!("an unknown action completes at once");
    };
    assert!(
        c.diagnostics[0].detail.contains(ACTION),
        "names the actions there are"
    );
}
