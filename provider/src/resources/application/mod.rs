//! `jke_application`: Terraform's calls mapped onto the app model and the cluster.

pub mod plan;
pub mod schema;

use super::cluster_error::diagnostic as kube_diag;
use super::convert;
use super::notifications;
use super::objects::{object_ref, object_refs, resource_types};
use super::provider_config::ProviderConfig;
use super::resource::{Connected, Resource};
use crate::app::application::bundle::{self, KINDS};
use crate::app::application::observe::{self, Live, Observed};
use crate::app::application::spec::{Input, Spec, StringMap};
use crate::app::application::validate;
use crate::app::formats::parse_duration;
use crate::app::notification::{Deploy, Event, changed_settings};
use crate::app::object::{Kind, Manifest};
use crate::app::report::Seg;
use crate::kube::{Cluster, KubeError, ObjectRef, Propagation};
use crate::plugin::{
    ApplyRequest, ApplyResponse, AttrPath, Diagnostic, Diagnostics, IdentitySchema, ImportRequest,
    ImportResponse, ImportedResource, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Schema,
    Value,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub const TYPE_NAME: &str = "jke_application";

fn identity(spec: &Spec) -> Value {
    Value::Object(BTreeMap::from([
        ("namespace".to_string(), Value::string(&spec.namespace)),
        ("name".to_string(), Value::string(&spec.name)),
    ]))
}

/// `jke_application`: one app and its bundle of objects in one namespace.
pub struct Application;

#[tonic::async_trait]
impl Resource for Application {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> Schema {
        schema::resource_schema()
    }
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(schema::identity_schema())
    }
    fn validate(&self, config: &Value, provider: &ProviderConfig) -> Diagnostics {
        validate(config, provider)
    }
    fn plan(&self, req: &PlanRequest, provider: &ProviderConfig) -> PlanResponse {
        plan(req, provider)
    }
    async fn read(&self, cx: &Connected<'_>, req: &ReadRequest) -> ReadResponse {
        read(cx.cluster, req).await
    }
    async fn apply(
        &self,
        cx: &Connected<'_>,
        req: &ApplyRequest,
        stop: watch::Receiver<bool>,
    ) -> ApplyResponse {
        let started = Instant::now();
        let (mut resp, outcome) = apply(cx.cluster, req, stop).await;
        if let Some(deploy) = outcome.and_then(|o| {
            deploy_of(
                req,
                o,
                started.elapsed(),
                cx.config.cluster.environment.clone(),
            )
        }) && let Some(warning) =
            notifications::after_apply(cx.config.notifications.as_ref(), &deploy).await
        {
            resp.diagnostics.push(warning);
        }
        resp
    }
    fn import_target(&self, req: &ImportRequest) -> Result<(), Diagnostic> {
        import_target(req).map(|_| ())
    }
    async fn import(&self, cx: &Connected<'_>, req: &ImportRequest) -> ImportResponse {
        import(cx.cluster, req, &cx.config.defaults).await
    }
}

/// What an apply did to the app, for its notification.
pub struct Outcome {
    pub event: Event,
    /// Why it failed or was rolled back.
    pub reason: Option<String>,
}

impl Outcome {
    fn ok(event: Event) -> Option<Self> {
        Some(Outcome {
            event,
            reason: None,
        })
    }
    fn because(event: Event, reason: String) -> Option<Self> {
        Some(Outcome {
            event,
            reason: Some(reason),
        })
    }
}

/// The notification's facts: the app before (prior state) and after (planned state).
fn deploy_of(
    req: &ApplyRequest,
    outcome: Outcome,
    duration: Duration,
    environment: Option<String>,
) -> Option<Deploy> {
    let spec_of = |v: &Value| {
        if v.is_null() {
            None
        } else {
            plan::decode_state(v).ok().map(|(s, _)| s)
        }
    };
    let old = spec_of(&req.prior_state);
    let new = spec_of(&req.planned_state);
    let either = new.as_ref().or(old.as_ref())?;
    let changed = match (&old, &new) {
        (Some(o), Some(n)) => changed_settings(
            &serde_json::to_value(o).unwrap_or_default(),
            &serde_json::to_value(n).unwrap_or_default(),
        ),
        _ => Vec::new(),
    };
    Some(Deploy {
        environment,
        app: either.name.clone(),
        namespace: either.namespace.clone(),
        event: outcome.event,
        old_image: old.as_ref().map(|s| s.image.clone()),
        new_image: new.as_ref().map(|s| s.image.clone()),
        changed,
        duration,
        reason: outcome.reason,
    })
}

/// The kinds an app may own in its namespace (the namespace itself is shared); built once.
fn app_types() -> &'static [crate::kube::ResourceType] {
    static TYPES: std::sync::OnceLock<Vec<crate::kube::ResourceType>> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        let kinds: Vec<Kind> = KINDS.into_iter().filter(|k| k.namespaced()).collect();
        resource_types(&kinds)
    })
}

/// What a Deployment leaves behind for the garbage collector: ReplicaSets and pods (both
/// carry the app's labels from its pod template).
fn workload_dependents() -> &'static [crate::kube::ResourceType] {
    static TYPES: std::sync::OnceLock<Vec<crate::kube::ResourceType>> = std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        vec![
            crate::kube::ResourceType::new("apps/v1", "ReplicaSet", "replicasets", true),
            crate::kube::ResourceType::new("v1", "Pod", "pods", true),
        ]
    })
}

/// Problems in the provider's `defaults`, found by resolving a sample app over them.
pub fn validate_defaults(defaults: &Input) -> Diagnostics {
    let sample = Input {
        name: Some("sample".into()),
        image: Some("sample:1".into()),
        port: Some(8080),
        ..Input::default()
    };
    let spec = Spec::resolve(&sample, defaults);
    let set = serde_json::to_value(defaults).unwrap_or_default();
    let mut diags = Diagnostics::new();
    for p in validate::validate(&spec) {
        let attr = match p.path.first() {
            Some(Seg::Attr(a)) => a.clone(),
            _ => continue,
        };
        // Report only what the defaults themselves set.
        if set.get(&attr).is_some_and(|v| !v.is_null()) {
            let path = convert::attr_path(&p.path);
            let mut full = AttrPath::attr("defaults");
            full.0.extend(path.0);
            diags.error_at(full, p.summary, format!("defaults.{}", p.detail));
        }
    }
    diags
}

pub fn validate(config: &Value, provider: &ProviderConfig) -> Diagnostics {
    match plan::planned_state(config, &provider.defaults, provider.defaults_unknown) {
        Ok((_, _, diags)) => diags,
        Err(d) => d,
    }
}

pub fn plan(req: &PlanRequest, provider: &ProviderConfig) -> PlanResponse {
    if req.proposed_new_state.is_null() {
        // Destroy: nothing to compute.
        return PlanResponse::default();
    }
    let (spec, planned, mut diags) =
        match plan::planned_state(&req.config, &provider.defaults, provider.defaults_unknown) {
            Ok(x) => x,
            Err(d) => {
                return PlanResponse {
                    diagnostics: d,
                    ..PlanResponse::default()
                };
            }
        };
    if req.prior_state.is_null() {
        diags.extend(namespace_warning(&req.config, provider, &spec));
    }
    let requires_replace = plan::requires_replace(&req.prior_state, &planned);
    let planned_identity =
        (!planned.get("id").is_some_and(Value::is_unknown)).then(|| identity(&spec));
    PlanResponse {
        planned_state: planned,
        requires_replace,
        planned_private: Vec::new(),
        planned_identity,
        diagnostics: diags,
    }
}

/// An app created without a namespace from either the resource or the provider's
/// `defaults.namespace` lands in `default`, where every stray object of the cluster goes:
/// say so when it is created (an existing app is not nagged on every plan).
fn namespace_warning(config: &Value, provider: &ProviderConfig, spec: &Spec) -> Diagnostics {
    let unset = config.get("namespace").is_none_or(Value::is_null);
    if !unset || provider.defaults.namespace.is_some() || provider.defaults_unknown {
        return Diagnostics::new();
    }
    Diagnostic::warning(
        "No namespace chosen",
        format!(
            "jke_application {:?} goes to the namespace {:?} because neither its `namespace` nor the provider's `defaults.namespace` is set. Set one of them (e.g. `namespace = \"shop\"`, with `create_namespace = true` if it does not exist yet); the namespace cannot change later without replacing the app.",
            spec.name, spec.namespace
        ),
    )
    .at(AttrPath::attr("namespace"))
    .into()
}

async fn live_objects(cluster: &Cluster, manifests: &[Manifest]) -> Result<Live, KubeError> {
    let got = cluster.get_all(&object_refs(manifests)).await?;
    Ok(Live {
        objects: manifests
            .iter()
            .zip(got)
            .filter_map(|(m, o)| o.map(|o| (m.kind, o)))
            .collect(),
    })
}

pub async fn read(cluster: &Cluster, req: &ReadRequest) -> ReadResponse {
    let (prior, _) = match plan::decode_state(&req.current_state) {
        Ok(x) => x,
        Err(d) => {
            return ReadResponse {
                diagnostics: d,
                ..ReadResponse::default()
            };
        }
    };
    let mut prior = prior;
    // Write-only values were never stored; keep the Secret in the expected set by version.
    prior.secret_env_wo = None;
    // Namespaces are shared: never read them back as part of the app.
    let manifests: Vec<Manifest> = bundle::render(&prior)
        .into_iter()
        .filter(|m| m.kind != Kind::Namespace)
        .collect();
    let live = match live_objects(cluster, &manifests).await {
        Ok(l) => l,
        Err(e) => {
            return ReadResponse {
                new_state: req.current_state.clone(),
                diagnostics: kube_diag(&e, &format!("Reading {}", prior.id())).into(),
                ..ReadResponse::default()
            };
        }
    };
    match observe::observe(&prior, &live) {
        Observed::Gone => {
            tracing::info!(app = %prior.id(), "app deleted outside Terraform; removing from state");
            ReadResponse::default()
        }
        Observed::Present {
            spec,
            objects,
            drift,
        } => ReadResponse {
            new_state: plan::encode_state(&spec, &objects, &drift),
            new_identity: Some(identity(&spec)),
            ..ReadResponse::default()
        },
    }
}

fn write_only(config: &Value) -> Option<StringMap> {
    config
        .get("secret_env_wo")
        .and_then(Value::entries)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
}

/// Apply `spec`, which renders to `manifests`: server-side apply in order, prune what it no
/// longer has, wait for rollout.
async fn converge(
    cluster: &Cluster,
    spec: &Spec,
    manifests: &[Manifest],
    created: bool,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), KubeError> {
    // In render order: namespace, service account and secret before the Deployment.
    for m in manifests {
        cluster.apply(&object_ref(m), &m.object).await?;
    }
    if created && spec.autoscale.enabled {
        // Start at the autoscaling floor rather than Kubernetes' default of one pod.
        cluster
            .scale_deployment(&spec.namespace, &spec.name, spec.autoscale.min_replicas)
            .await?;
    }
    let pruned = cluster
        .prune(
            app_types(),
            Some(&spec.namespace),
            &bundle::app_label_selector(&spec.name),
            &object_refs(manifests),
            Propagation::Foreground,
        )
        .await?;
    if !pruned.is_empty() {
        let pruned: Vec<String> = pruned.iter().map(ObjectRef::describe).collect();
        tracing::info!(app = %spec.id(), ?pruned, "deleted objects the app no longer has");
    }
    if spec.rollout.wait {
        let timeout = parse_duration(&spec.rollout.timeout).unwrap_or(Duration::from_secs(300));
        cluster
            .wait_for_rollout(&spec.namespace, &spec.name, timeout, stop)
            .await?;
    }
    Ok(())
}

/// Create, update or destroy, and what it did (none when the request itself was unusable).
pub async fn apply(
    cluster: &Cluster,
    req: &ApplyRequest,
    mut stop: watch::Receiver<bool>,
) -> (ApplyResponse, Option<Outcome>) {
    if req.planned_state.is_null() {
        let resp = destroy(cluster, &req.prior_state).await;
        let outcome = match resp.diagnostics.0.first() {
            Some(d) if resp.diagnostics.has_errors() => {
                Outcome::because(Event::Failed, d.detail.clone())
            }
            _ => Outcome::ok(Event::Destroyed),
        };
        return (resp, outcome);
    }
    let (mut spec, _) = match plan::decode_state(&req.planned_state) {
        Ok(x) => x,
        Err(d) => {
            let resp = ApplyResponse {
                diagnostics: d,
                ..ApplyResponse::default()
            };
            return (resp, None);
        }
    };
    spec.secret_env_wo = write_only(&req.config);
    let prior = if req.prior_state.is_null() {
        None
    } else {
        plan::decode_state(&req.prior_state).ok().map(|p| p.0)
    };
    tracing::info!(app = %spec.id(), "applying");
    let manifests = bundle::render(&spec);
    let result = converge(cluster, &spec, &manifests, prior.is_none(), &mut stop).await;
    let new_state = plan::encode_state(&spec, &manifests, &BTreeMap::new());
    let err = match result {
        Ok(()) => {
            let resp = ApplyResponse {
                new_state,
                new_identity: Some(identity(&spec)),
                ..ApplyResponse::default()
            };
            return (resp, Outcome::ok(Event::Deployed));
        }
        Err(e) => e,
    };
    let rollout_failed = matches!(err, KubeError::Rollout { .. });
    match (&prior, rollout_failed && spec.rollout.rollback_on_failure) {
        (Some(prior_spec), true) => {
            let mut prior_spec = prior_spec.clone();
            // Write-only values of the prior version were never seen; keep the current ones.
            prior_spec.secret_env_wo = spec.secret_env_wo.clone();
            let prior_manifests = bundle::render(&prior_spec);
            let rolled_back =
                converge(cluster, &prior_spec, &prior_manifests, false, &mut stop).await;
            let (outcome, happened) = match rolled_back {
                Ok(()) => (
                    "rolled back to the previous version, which is running again".to_string(),
                    Outcome::because(Event::RolledBack, err.to_string()),
                ),
                Err(e2) => (
                    format!("rolling back to the previous version also failed: {e2}"),
                    Outcome::because(
                        Event::Failed,
                        format!("{err}; rolling back also failed: {e2}"),
                    ),
                ),
            };
            let resp = ApplyResponse {
                // State stays at the prior spec, so the next plan proposes the change again.
                new_state: req.prior_state.clone(),
                new_identity: Some(identity(&prior_spec)),
                diagnostics: Diagnostic::error(
                    format!("Rollout of {} failed", spec.id()),
                    format!("{err}. The provider {outcome}; fix the cause and apply again."),
                )
                .into(),
                ..ApplyResponse::default()
            };
            (resp, happened)
        }
        _ => {
            let left = if rollout_failed {
                format!(
                    " Rollback is off (or this was the first version): the new objects were applied and are left running as they are; see `kubectl -n {} get pods -l {}`.",
                    spec.namespace,
                    bundle::app_label_selector(&spec.name)
                )
            } else {
                String::new()
            };
            // Objects may be partly written: record the intended state so the next plan
            // reads what is really there and converges.
            let resp = ApplyResponse {
                new_state: if prior.is_none() && !rollout_failed {
                    Value::Null
                } else {
                    new_state
                },
                new_identity: Some(identity(&spec)),
                diagnostics: Diagnostic::error(
                    format!("Applying {} failed", spec.id()),
                    format!("{err}.{left}"),
                )
                .into(),
                ..ApplyResponse::default()
            };
            (resp, Outcome::because(Event::Failed, err.to_string()))
        }
    }
}

async fn destroy(cluster: &Cluster, prior_state: &Value) -> ApplyResponse {
    let (spec, _) = match plan::decode_state(prior_state) {
        Ok(x) => x,
        Err(d) => {
            return ApplyResponse {
                diagnostics: d,
                ..ApplyResponse::default()
            };
        }
    };
    let manifests = bundle::render(&spec);
    // Everything labelled as the app's, including objects from an interrupted apply.
    let mut targets: Vec<ObjectRef> = manifests
        .iter()
        .filter(|m| m.kind != Kind::Namespace)
        .map(object_ref)
        .collect();
    let selector = bundle::app_label_selector(&spec.name);
    match cluster
        .list_types(app_types(), Some(&spec.namespace), &selector)
        .await
    {
        Ok(found) => {
            for f in found {
                if !targets.contains(&f) {
                    targets.push(f);
                }
            }
        }
        Err(e) => {
            return ApplyResponse {
                new_state: prior_state.clone(),
                diagnostics: kube_diag(&e, &format!("Deleting {}", spec.id())).into(),
                ..ApplyResponse::default()
            };
        }
    }
    let grace = Duration::from_secs(spec.termination_grace_period.max(0) as u64 + 120);
    // The Deployment goes at once and the garbage collector takes its ReplicaSets and pods;
    // destroy returns when those are gone too. Waiting on them directly is faster than a
    // foreground deletion, whose finalizers the collector clears one level at a time.
    let gone = match cluster
        .delete_and_wait(&targets, Propagation::Background, grace)
        .await
    {
        Ok(()) => {
            cluster
                .wait_none(workload_dependents(), &spec.namespace, &selector, grace)
                .await
        }
        Err(e) => Err(e),
    };
    match gone {
        Ok(()) => ApplyResponse::default(),
        Err(e) => ApplyResponse {
            new_state: prior_state.clone(),
            diagnostics: kube_diag(&e, &format!("Deleting {}", spec.id())).into(),
            ..ApplyResponse::default()
        },
    }
}

/// `namespace/name` from an import ID or an identity.
pub fn import_target(req: &ImportRequest) -> Result<(String, String), Diagnostic> {
    if let Some(id) = &req.identity
        && !id.is_null()
    {
        let ns = id.get("namespace").and_then(Value::as_str);
        let name = id.get("name").and_then(Value::as_str);
        return match (ns, name) {
            (Some(ns), Some(n)) => Ok((ns.to_string(), n.to_string())),
            _ => Err(Diagnostic::error(
                "Invalid import identity",
                "the identity needs both namespace and name, e.g. identity = { namespace = \"shop\", name = \"web\" }",
            )),
        };
    }
    match req.id.split_once('/') {
        Some((ns, n)) if !ns.is_empty() && !n.is_empty() && !n.contains('/') => {
            Ok((ns.to_string(), n.to_string()))
        }
        _ => Err(Diagnostic::error(
            "Invalid import ID",
            format!(
                "import ID {:?} must be \"namespace/name\", e.g. \"shop/web\"",
                req.id
            ),
        )
        .at(AttrPath::attr("id"))),
    }
}

pub async fn import(cluster: &Cluster, req: &ImportRequest, defaults: &Input) -> ImportResponse {
    let (namespace, name) = match import_target(req) {
        Ok(x) => x,
        Err(d) => {
            return ImportResponse {
                diagnostics: d.into(),
                ..ImportResponse::default()
            };
        }
    };
    // Every kind the app may have, under the names JKE gives them.
    let mut probe = Spec::resolve(
        &Input {
            name: Some(name.clone()),
            namespace: Some(namespace.clone()),
            ..Input::default()
        },
        defaults,
    );
    probe.secret_env_version = Some(0);
    probe.ingress = Some(Default::default());
    let mut manifests: Vec<Manifest> = bundle::render(&probe)
        .into_iter()
        .filter(|m| m.kind != Kind::Namespace)
        .collect();
    if !manifests.iter().any(|m| m.kind == Kind::Ingress) {
        // Rendering needs ports for an ingress; the name is what matters for the GET.
        manifests.push(Manifest {
            kind: Kind::Ingress,
            name: name.clone(),
            namespace: Some(namespace.clone()),
            object: serde_json::Value::Null,
        });
    }
    if !manifests.iter().any(|m| m.kind == Kind::Service) {
        manifests.push(Manifest {
            kind: Kind::Service,
            name: name.clone(),
            namespace: Some(namespace.clone()),
            object: serde_json::Value::Null,
        });
    }
    let mut live = match live_objects(cluster, &manifests).await {
        Ok(l) => l,
        Err(e) => {
            return ImportResponse {
                diagnostics: kube_diag(&e, &format!("Importing {namespace}/{name}")).into(),
                ..ImportResponse::default()
            };
        }
    };
    // The ServiceAccount may have another name: follow the Deployment.
    if let Some(sa) = live
        .objects
        .get(&Kind::Deployment)
        .and_then(|d| d["spec"]["template"]["spec"]["serviceAccountName"].as_str())
        .filter(|sa| *sa != name)
        .map(str::to_string)
    {
        live.objects.remove(&Kind::ServiceAccount);
        let r = object_ref(&Manifest::of(
            Kind::ServiceAccount,
            &sa,
            Some(&namespace),
            &serde_json::Value::Null,
        ));
        if let Ok(Some(o)) = cluster.get(&r).await {
            live.objects.insert(Kind::ServiceAccount, o);
        }
    }
    let Some(mut spec) = observe::import(&namespace, &name, &live, defaults) else {
        return ImportResponse {
            diagnostics: Diagnostic::error(
                "Cannot import a missing app",
                format!("no Deployment {name:?} in namespace {namespace:?} at {}; check the import ID (\"namespace/name\")", cluster.host),
            )
            .into(),
            ..ImportResponse::default()
        };
    };
    if live.objects.contains_key(&Kind::Secret) && spec.secret_env.is_none() {
        spec.secret_env_version = None;
    }
    ImportResponse {
        imported: vec![ImportedResource {
            type_name: TYPE_NAME.to_string(),
            state: plan::encode_state(&spec, &bundle::render(&spec), &BTreeMap::new()),
            private: Vec::new(),
            identity: Some(identity(&spec)),
        }],
        diagnostics: Diagnostics::new(),
    }
}
