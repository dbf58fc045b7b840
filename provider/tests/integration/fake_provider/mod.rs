//! A small test-only Provider with a `jke_test` resource, to drive the protocol server
//! without the real resources: it echoes plans, records what it received, and reports a few
//! validation errors with paths.

#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use terraform_provider_jke::plugin::*;

pub const RESOURCE: &str = "jke_test";
/// An action that reports `steps` progress messages, then ends with a warning.
pub const ACTION: &str = "jke_test_steps";

pub fn action_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "A test action.".into(),
            attributes: vec![Attribute::typed("steps", Type::Number, "How many.").required()],
            deprecated: false,
        },
    }
}

fn steps(config: &Value) -> Option<i64> {
    match config.get("steps")?.as_number()? {
        Number::Int(i) => Some(i),
        Number::Float(f) => Some(f as i64),
    }
}

pub struct FakeProvider {
    schemas: ProviderSchemas,
    /// (prior_state, proposed_new_state, config) of every PlanResourceChange.
    pub plans: Mutex<Vec<(Value, Value, Value)>>,
    pub configured: Mutex<Option<(String, Value)>>,
    pub stopped: AtomicBool,
}

pub fn resource_schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: "A test resource.".into(),
            attributes: vec![
                Attribute::typed("id", Type::String, "`namespace/name`.").computed(),
                Attribute::typed("name", Type::String, "Name.").required(),
                Attribute::typed("namespace", Type::String, "Namespace.")
                    .optional()
                    .computed(),
                Attribute::typed("port", Type::Number, "Port.").optional(),
                Attribute::typed("env", Type::map(Type::String), "Environment.").optional(),
                Attribute::typed("secret_env", Type::map(Type::String), "Secrets.")
                    .optional()
                    .sensitive(),
                Attribute::typed("secret_wo", Type::String, "Write-only secret.")
                    .optional()
                    .write_only(),
                Attribute::nested(
                    "autoscale",
                    Nesting::Single,
                    vec![
                        Attribute::typed("enabled", Type::Bool, "On?")
                            .optional()
                            .computed(),
                        Attribute::typed("max_replicas", Type::Number, "Max.")
                            .optional()
                            .computed(),
                    ],
                    "Autoscaling.",
                )
                .optional()
                .computed(),
                Attribute::nested(
                    "ports",
                    Nesting::List,
                    vec![
                        Attribute::typed("container_port", Type::Number, "Port.").required(),
                        Attribute::typed("token_wo", Type::String, "Nested write-only.")
                            .optional()
                            .write_only(),
                    ],
                    "Ports.",
                )
                .optional(),
            ],
            deprecated: false,
        },
    }
}

pub fn identity_schema() -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "namespace".into(),
                ty: Type::String,
                description: "Namespace.".into(),
                required_for_import: false,
                optional_for_import: true,
            },
            IdentityAttribute {
                name: "name".into(),
                ty: Type::String,
                description: "Name.".into(),
                required_for_import: true,
                optional_for_import: false,
            },
        ],
    }
}

/// The `config` block of `list "jke_test"`: how many objects to find.
pub fn list_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Finds test objects.".into(),
            attributes: vec![Attribute::typed("count", Type::Number, "How many.").optional()],
            deprecated: false,
        },
    }
}

impl FakeProvider {
    pub fn new() -> Self {
        FakeProvider {
            schemas: ProviderSchemas {
                provider: Schema {
                    version: 0,
                    block: Block {
                        description: "Test provider.".into(),
                        attributes: vec![
                            Attribute::typed("namespace", Type::String, "Default namespace.")
                                .optional(),
                        ],
                        deprecated: false,
                    },
                },
                resources: vec![(RESOURCE.into(), resource_schema())],
                identities: vec![(RESOURCE.into(), identity_schema())],
                list_resources: vec![(RESOURCE.into(), list_schema())],
                actions: vec![(ACTION.into(), action_schema())],
            },
            plans: Mutex::new(Vec::new()),
            configured: Mutex::new(None),
            stopped: AtomicBool::new(false),
        }
    }
}

fn identity_of(state: &Value) -> Option<Value> {
    Some(Value::Object(
        [
            (
                "namespace".to_string(),
                state.get("namespace").cloned().unwrap_or_default(),
            ),
            (
                "name".to_string(),
                state.get("name").cloned().unwrap_or_default(),
            ),
        ]
        .into(),
    ))
}

fn set(v: &mut Value, attr: &str, to: Value) {
    if let Value::Object(m) = v {
        m.insert(attr.to_string(), to);
    }
}

#[tonic::async_trait]
impl Provider for FakeProvider {
    fn schemas(&self) -> &ProviderSchemas {
        &self.schemas
    }

    async fn validate_provider_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
        *self.configured.lock().unwrap() = Some((req.terraform_version, req.config));
        Diagnostics::new()
    }

    async fn validate_resource_config(&self, _type_name: &str, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(n) = config.get("port").and_then(Value::as_number)
            && !(1.0..=65535.0).contains(&n.as_f64())
        {
            d.error_at(
                AttrPath::attr("port"),
                "Invalid port",
                format!("port = {n}: must be 1..65535"),
            );
        }
        if let Some(ports) = config.get("ports").and_then(Value::elements) {
            for (i, p) in ports.iter().enumerate() {
                if p.get("container_port") == Some(&Value::int(0)) {
                    d.error_at(
                        AttrPath::attr("ports")
                            .then_index(i)
                            .then_attr("container_port"),
                        "Invalid port",
                        "container_port = 0",
                    );
                }
            }
        }
        if let Some(env) = config.get("env").and_then(Value::entries) {
            for k in env.keys().filter(|k| k.contains('=')) {
                d.push(
                    Diagnostic::warning("Odd variable name", format!("{k:?} contains '='"))
                        .at(AttrPath::attr("env").then_key(k)),
                );
            }
        }
        d
    }

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        let new_identity = identity_of(&req.current_state);
        ReadResponse {
            new_state: req.current_state,
            private: req.private,
            new_identity,
            diagnostics: Diagnostics::new(),
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        self.plans.lock().unwrap().push((
            req.prior_state.clone(),
            req.proposed_new_state.clone(),
            req.config.clone(),
        ));
        if req.proposed_new_state.is_null() {
            // Destroy.
            return PlanResponse::default();
        }
        let mut planned = req.proposed_new_state.clone();
        if req.prior_state.is_null() {
            set(&mut planned, "id", Value::Unknown);
        }
        if planned.get("namespace").is_none_or(Value::is_null) {
            set(&mut planned, "namespace", Value::string("default"));
        }
        // Sloppy on purpose: copies the write-only value from config into the plan; the
        // server must null it.
        set(
            &mut planned,
            "secret_wo",
            req.config.get("secret_wo").cloned().unwrap_or_default(),
        );
        let planned_identity = identity_of(&planned);
        PlanResponse {
            planned_state: planned,
            requires_replace: vec![AttrPath::attr("name")],
            planned_private: b"planned".to_vec(),
            planned_identity,
            diagnostics: Diagnostics::new(),
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        if req.planned_state.is_null() {
            return ApplyResponse::default();
        }
        let mut state = req.planned_state.clone();
        let ns = state
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let name = state
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        set(&mut state, "id", Value::string(format!("{ns}/{name}")));
        // The write-only value is only visible in config; echo it to check the server nulls it.
        set(
            &mut state,
            "secret_wo",
            req.config.get("secret_wo").cloned().unwrap_or_default(),
        );
        let new_identity = identity_of(&state);
        ApplyResponse {
            new_state: state,
            private: req.planned_private,
            new_identity,
            diagnostics: Diagnostics::new(),
        }
    }

    async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse {
        let (ns, name) = match (&req.identity, req.id.split_once('/')) {
            (Some(id), _) => (
                id.get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_string(),
                id.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            (None, Some((ns, name))) => (ns.to_string(), name.to_string()),
            (None, None) => {
                let mut d = Diagnostics::new();
                d.error(
                    "Invalid import ID",
                    format!("{:?}: expected namespace/name", req.id),
                );
                return ImportResponse {
                    imported: vec![],
                    diagnostics: d,
                };
            }
        };
        let state = Value::Object(
            [
                ("id".to_string(), Value::string(format!("{ns}/{name}"))),
                ("name".to_string(), Value::string(name)),
                ("namespace".to_string(), Value::string(ns)),
            ]
            .into(),
        );
        let identity = identity_of(&state);
        ImportResponse {
            imported: vec![ImportedResource {
                type_name: String::new(),
                state,
                private: vec![],
                identity,
            }],
            diagnostics: Diagnostics::new(),
        }
    }

    async fn validate_list_resource_config(&self, req: ValidateListRequest) -> Diagnostics {
        let mut d = Diagnostics::new();
        if req.limit.is_some_and(|l| l < 0) {
            d.error("Invalid limit", "limit must not be negative");
        }
        d
    }

    /// `count` objects `obj-0`, `obj-1`, ... (with their state when asked), one at a time.
    async fn list_resource(&self, req: ListRequest, sink: ListSink) {
        let count = req
            .config
            .get("count")
            .and_then(Value::as_number)
            .map_or(3, |n| n.as_f64() as i64);
        for i in 0..count {
            let name = format!("obj-{i}");
            let state = Value::Object(
                [
                    ("id".to_string(), Value::string(format!("apps/{name}"))),
                    ("name".to_string(), Value::string(&name)),
                    ("namespace".to_string(), Value::string("apps")),
                    ("secret_wo".to_string(), Value::string("never sent")),
                ]
                .into(),
            );
            let result = ListResult {
                identity: identity_of(&state),
                display_name: name,
                resource: req.include_resource.then_some(state),
                diagnostics: Diagnostics::new(),
            };
            if sink.send(result).await.is_err() {
                return;
            }
        }
    }

    async fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    async fn validate_action_config(&self, _type_name: &str, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if steps(config).is_some_and(|n| n < 0) {
            d.error_at(
                AttrPath::attr("steps"),
                "Invalid steps",
                "steps must be >= 0",
            );
        }
        d
    }

    async fn plan_action(&self, req: PlanActionRequest) -> Diagnostics {
        let mut d = Diagnostics::new();
        if req.config.get("steps").is_some_and(Value::is_unknown) {
            d.push(Diagnostic::warning("Unknown steps", "known at invoke"));
        }
        d
    }

    async fn invoke_action(
        &self,
        req: InvokeActionRequest,
        progress: ActionProgress,
    ) -> Diagnostics {
        let n = steps(&req.config).unwrap_or(0);
        for i in 1..=n {
            progress.send(format!("{i}/{n} steps"));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        Diagnostic::warning("Done", format!("{n} steps")).into()
    }
}
