//! `jke_application`: Terraform's calls mapped onto the app model and the cluster.

mod converge;
mod destroy;
pub mod generate;
mod import;
pub mod last_good;
pub mod list;
pub mod plan;
pub mod schema;

use self::converge::{Over, Stage, converge, finish_create};
use self::destroy::destroy;
pub use self::import::{ImportedApp, import, import_app, import_target};
use super::cluster_error::diagnostic as kube_diag;
use super::convert;
use super::notifications;
use super::objects::{object_ref, object_refs, resource_types};
use super::provider_config::ProviderConfig;
use super::resource::{Connected, Resource};
use crate::app::application::bundle::{self, KINDS};
use crate::app::application::observe::{self, Live, Observed};
use crate::app::application::owner::{self, Foreign};
use crate::app::application::spec::{Input, Spec, StringMap};
use crate::app::application::validate;
use crate::app::foreign_fields::Policy;
use crate::app::notification::{Deploy, Event, changed_settings};
use crate::app::object::{Kind, Manifest};
use crate::app::report::Seg;
use crate::kube::rollout::Progress;
use crate::kube::{Cluster, KubeError, ObjectRef};
use crate::plugin::{
    ApplyRequest, ApplyResponse, AttrPath, Diagnostic, Diagnostics, IdentitySchema, ImportRequest,
    ImportResponse, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Schema, Value,
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
        read(cx.cluster, req, &cx.config.drift_policy()).await
    }
    async fn apply(
        &self,
        cx: &Connected<'_>,
        req: &ApplyRequest,
        stop: watch::Receiver<bool>,
    ) -> ApplyResponse {
        let started = Instant::now();
        let (mut resp, outcome) = apply(cx.cluster, req, &cx.config.drift_policy(), stop).await;
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
        import(
            cx.cluster,
            req,
            &cx.config.defaults,
            &cx.config.drift_policy(),
        )
        .await
    }
    fn generate_config(
        &self,
        state: &Value,
        provider: &ProviderConfig,
    ) -> Result<Value, Diagnostics> {
        generate::generate(state, &provider.defaults)
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
    // The version before is the last good one when remembered (see `last_good`).
    let old = spec_of(&req.prior_state).map(|p| {
        let id = p.id();
        last_good::decode(&req.planned_private, &id).unwrap_or(p)
    });
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
pub(super) fn app_types() -> &'static [crate::kube::ResourceType] {
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
        // Destroy: nothing to compute; the private data stays for a destroy that fails.
        return PlanResponse {
            planned_private: req.prior_private.clone(),
            ..PlanResponse::default()
        };
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
    let mut planned = planned;
    if let Some(owner) = plan::owner_of(&req.prior_state) {
        // The mark made at create stays; an app without one gets it on this apply.
        convert::set_at(
            &mut planned,
            &[crate::plugin::PathStep::Attr("owner_id".into())],
            Value::string(owner),
        );
    }
    let requires_replace = plan::requires_replace(&req.prior_state, &planned);
    let planned_identity =
        (!planned.get("id").is_some_and(Value::is_unknown)).then(|| identity(&spec));
    PlanResponse {
        planned_state: planned,
        requires_replace,
        // The last good version (see `last_good`) reaches apply only through the plan.
        planned_private: req.prior_private.clone(),
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

pub async fn read(cluster: &Cluster, req: &ReadRequest, policy: &Policy<'_>) -> ReadResponse {
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
    let kept = last_good::decode(&req.private, &prior.id());
    let mut live = match live_objects(cluster, &manifests).await {
        Ok(l) => l,
        Err(e) => {
            return ReadResponse {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: kube_diag(&e, &format!("Reading {}", prior.id())).into(),
                ..ReadResponse::default()
            };
        }
    };
    let owner = plan::owner_of(&req.current_state);
    // An object with another owner's mark is not this app's, whatever its name.
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    live.objects.retain(|kind, o| {
        let ours = owner::owns(owner::mark_of(o), owner.as_deref());
        if !ours && let Some(m) = manifests.iter().find(|m| m.kind == *kind) {
            taken.insert(m.key(), format!("managed by {}", owner::managed_by(o)));
        }
        ours
    });
    let progress = live
        .objects
        .get(&Kind::Deployment)
        .and_then(|d| {
            serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(d.clone()).ok()
        })
        .map(|d| crate::kube::rollout::progress(&d));
    let rolled_out = matches!(progress, Some(Progress::Done));
    match observe::observe(&prior, &live, policy) {
        Observed::Gone => {
            tracing::info!(app = %prior.id(), "app deleted outside Terraform; removing from state");
            ReadResponse::default()
        }
        Observed::Present {
            spec,
            objects,
            mut drift,
        } => {
            drift.extend(taken);
            // Remembered before the live version goes into state (see `last_good`).
            let good = last_good::after_read(kept, &prior, &spec, rolled_out);
            if let Some(why) = rollout_drift(progress.as_ref(), good.is_some()) {
                drift.insert(format!("Deployment/{}: rollout", spec.name), why);
            }
            ReadResponse {
                new_state: plan::encode_state(&spec, &objects, &drift, owner.as_deref()),
                private: last_good::encode(good.as_ref()),
                new_identity: Some(identity(&spec)),
                ..ReadResponse::default()
            }
        }
    }
}

/// The rollout as drift, so the plan is not empty while the app is not known to run: a
/// rollout that failed (an apply interrupted before it finished, or one that failed since),
/// or one still unfinished after an interrupted apply (a last good version is remembered),
/// which the next apply then waits for, rolling back if it fails.
fn rollout_drift(progress: Option<&Progress>, interrupted: bool) -> Option<String> {
    match progress? {
        Progress::Failed(why) => Some(format!("failed: {why}")),
        Progress::Waiting(why) if interrupted => Some(format!("unfinished: {why}")),
        _ => None,
    }
}

/// A new owner mark: unique per created app (hashed from the process's random hasher keys,
/// the time, the process id and a counter; it needs to be unique, not secret).
fn new_owner_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", h.finish())
}

/// The objects of the app this apply may not write, read before anything is written: any
/// object of `manifests` with another owner's mark (or, unless `adopt_unmarked`, without
/// one), and a ServiceAccount the app uses without creating it that is another app's.
/// Also returns what was read of `manifests` (the namespace left out, in their order), so
/// an update takes over foreign fields without reading every object again.
async fn foreign_objects(
    cluster: &Cluster,
    spec: &Spec,
    manifests: &[Manifest],
    owner: &str,
    adopt_unmarked: bool,
) -> Result<(Vec<Foreign>, Vec<Option<serde_json::Value>>), KubeError> {
    let mut refs: Vec<ObjectRef> = manifests
        .iter()
        .filter(|m| m.kind != Kind::Namespace)
        .map(object_ref)
        .collect();
    let used_account = (!spec.service_account.create).then(|| {
        object_ref(&Manifest::of(
            Kind::ServiceAccount,
            &spec.service_account.name,
            Some(&spec.namespace),
            &serde_json::Value::Null,
        ))
    });
    let own = refs.len();
    refs.extend(used_account.clone());
    let mut live = cluster.get_all(&refs).await?;
    let deployment = refs
        .iter()
        .zip(&live)
        .find(|(r, _)| r.ty.kind == "Deployment" && r.name == spec.name)
        .and_then(|(_, l)| l.as_ref());
    let mut out = Vec::new();
    for (r, l) in refs.iter().zip(&live) {
        // What a create of this app left when it never returned to Terraform (killed,
        // cut off) is in no state: this apply takes it over.
        let used = Some(r) == used_account.as_ref();
        let leftover = !used
            && l.as_ref()
                .and_then(owner::mark_of)
                .is_some_and(|m| m != owner && owner::unfinished(m, deployment));
        let check = if leftover {
            Ok(())
        } else if used {
            // Used, not written: only another app's mark makes it another's.
            l.as_ref()
                .filter(|l| owner::mark_of(l).is_some_and(|m| m != owner))
                .map_or(Ok(()), |l| {
                    owner::may_write(&r.describe(), Some(l), owner, false)
                })
        } else {
            owner::may_write(&r.describe(), l.as_ref(), owner, adopt_unmarked)
        };
        if let Err(f) = check {
            out.push(f);
        }
    }
    live.truncate(own);
    Ok((out, live))
}

/// The refusal for objects this app may not write; nothing was written.
fn foreign_diagnostic(spec: &Spec, foreign: &[Foreign], creating: bool) -> Diagnostic {
    let each: Vec<String> = foreign
        .iter()
        .map(|f| format!("{} already exists, managed by {}", f.object, f.managed_by))
        .collect();
    let account_ref = format!(
        "ServiceAccount/{}/{}",
        spec.namespace, spec.service_account.name
    );
    let account =
        spec.service_account.name != spec.name && foreign.iter().any(|f| f.object == account_ref);
    let fix = if account {
        "Its service_account.name names another app's ServiceAccount: leave it unset so the app gets its own".to_string()
    } else {
        format!(
            "To manage this app from this configuration, import it with `terraform import jke_application.<resource name> {}` (and `terraform state rm` it from the configuration that has it now); otherwise choose another name or namespace",
            spec.id()
        )
    };
    Diagnostic::error(
        format!(
            "{} {} is not this configuration's",
            if creating { "Creating" } else { "Updating" },
            spec.id()
        ),
        format!("{}. Nothing was changed. {fix}.", each.join("; ")),
    )
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

/// `state` with its owner mark set to `owner`.
fn with_owner(state: &Value, owner: &str) -> Value {
    let mut state = state.clone();
    convert::set_at(
        &mut state,
        &[crate::plugin::PathStep::Attr("owner_id".into())],
        Value::string(owner),
    );
    state
}

/// Create, update or destroy, and what it did (none when the request itself was unusable).
pub async fn apply(
    cluster: &Cluster,
    req: &ApplyRequest,
    policy: &Policy<'_>,
    mut stop: watch::Receiver<bool>,
) -> (ApplyResponse, Option<Outcome>) {
    if req.planned_state.is_null() {
        let mut resp = destroy(cluster, &req.prior_state).await;
        if resp.diagnostics.has_errors() {
            // The app stays in state: so does what it remembers.
            resp.private = req.planned_private.clone();
        }
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
    // The version to return to if this rollout fails, when it is not the prior state's.
    let kept = prior
        .as_ref()
        .and_then(|p| last_good::decode(&req.planned_private, &p.id()));
    // The app's mark: made now for a new app; an app in state without one (from before
    // owner marks, or imported from objects without one) adopts its unmarked objects.
    let prior_owner = plan::owner_of(&req.prior_state);
    let adopting = prior.is_some() && prior_owner.is_none();
    let owner = prior_owner.unwrap_or_else(new_owner_id);
    tracing::info!(app = %spec.id(), "applying");
    let mut manifests = bundle::render(&spec);
    let unchanged = |diagnostics: Diagnostics| ApplyResponse {
        new_state: req.prior_state.clone(),
        private: req.planned_private.clone(),
        new_identity: prior.as_ref().map(identity),
        diagnostics,
    };
    let read = match foreign_objects(cluster, &spec, &manifests, &owner, adopting).await {
        Ok((f, read)) if f.is_empty() => read,
        Ok((f, _)) => {
            let d = foreign_diagnostic(&spec, &f, prior.is_none());
            let why = d.detail.clone();
            return (unchanged(d.into()), Outcome::because(Event::Failed, why));
        }
        Err(e) => {
            let d = kube_diag(&e, &format!("Applying {}", spec.id()));
            let why = d.detail.clone();
            return (unchanged(d.into()), Outcome::because(Event::Failed, why));
        }
    };
    owner::mark(&mut manifests, &owner);
    let state_manifests = manifests.clone();
    if prior.is_none() {
        owner::mark_pending(&mut manifests);
    }
    let result = converge(
        cluster,
        &spec,
        &manifests,
        &owner,
        if prior.is_none() {
            Over::Nothing
        } else {
            Over::Objects(Some(read))
        },
        policy,
        &mut stop,
    )
    .await;
    if prior.is_none() && !matches!(result, Err((Stage::Write, _))) {
        let rolled_out = result.as_ref().ok().cloned().flatten();
        finish_create(cluster, &spec, &state_manifests, rolled_out, policy).await;
    }
    let new_state = plan::encode_state(&spec, &state_manifests, &BTreeMap::new(), Some(&owner));
    let (stage, err) = match result {
        Ok(_) => {
            let resp = ApplyResponse {
                new_state,
                new_identity: Some(identity(&spec)),
                ..ApplyResponse::default()
            };
            return (resp, Outcome::ok(Event::Deployed));
        }
        Err(x) => x,
    };
    let rollout_failed = stage == Stage::Rollout && matches!(err, KubeError::Rollout { .. });
    // Whatever went wrong, the version that last rolled out is still the one to return to.
    let good = last_good::after_failed_apply(kept.clone(), prior.as_ref());
    let target = if rollout_failed && spec.rollout.rollback_on_failure {
        last_good::rollback_target(kept.clone(), prior.as_ref(), &spec)
    } else {
        None
    };
    match target {
        Some(target) => {
            let mut target_manifests = bundle::render(&target);
            owner::mark(&mut target_manifests, &owner);
            let rolled_back = converge(
                cluster,
                &target,
                &target_manifests,
                &owner,
                Over::Objects(None),
                policy,
                &mut stop,
            )
            .await;
            let (outcome, happened, private) = match rolled_back {
                Ok(_) => (
                    "rolled back to the previous version, which is running again".to_string(),
                    Outcome::because(Event::RolledBack, err.to_string()),
                    Vec::new(),
                ),
                Err((_, e2)) => (
                    format!("rolling back to the previous version also failed: {e2}"),
                    Outcome::because(
                        Event::Failed,
                        format!("{err}; rolling back also failed: {e2}"),
                    ),
                    last_good::encode(good.as_ref()),
                ),
            };
            // State goes back to the version rolled back to, so the next plan proposes the
            // change again: the prior state, or the last good version when it was not that.
            let new_state = if kept.is_some() {
                plan::encode_state(&target, &target_manifests, &BTreeMap::new(), Some(&owner))
            } else {
                with_owner(&req.prior_state, &owner)
            };
            let resp = ApplyResponse {
                new_state,
                private,
                new_identity: Some(identity(&target)),
                diagnostics: Diagnostic::error(
                    format!("Rollout of {} failed", spec.id()),
                    format!("{err}. The provider {outcome}; fix the cause and apply again."),
                )
                .into(),
            };
            (resp, happened)
        }
        None => {
            let left = if rollout_failed {
                format!(
                    " Rollback is off (or this was the first version): the new objects were applied and are left running as they are; see `kubectl -n {} get pods -l {}`.",
                    spec.namespace,
                    bundle::app_label_selector(&spec.name)
                )
            } else if stage == Stage::Prune {
                " The objects the app no longer has that could not be deleted are still there, and stay in state so the next plan shows them again.".to_string()
            } else if prior.is_none() {
                " The objects written so far are recorded in state, so Terraform marks the app tainted: the next apply replaces it, and destroy removes them.".to_string()
            } else {
                String::new()
            };
            let new_state = match (stage, &prior) {
                // Keep the prior state's objects (which include those still there), so the
                // next plan proposes their removal again; Read refreshes the rest.
                (Stage::Prune, Some(_)) => with_owner(&req.prior_state, &owner),
                // Objects may be partly written: record the intended state (with the mark,
                // so destroy finds them) and the next plan reads what is really there. A
                // create that failed returns it too, so Terraform taints the app.
                _ => new_state,
            };
            let resp = ApplyResponse {
                new_state,
                // The next apply rolls back to it if this version still does not roll out.
                private: last_good::encode(good.as_ref()),
                new_identity: Some(identity(&spec)),
                diagnostics: Diagnostic::error(
                    format!("Applying {} failed", spec.id()),
                    format!("{err}.{left}"),
                )
                .into(),
            };
            (resp, Outcome::because(Event::Failed, err.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_rollout_is_drift_only_after_an_interrupted_apply() {
        let waiting = Progress::Waiting("0/2 pods available".into());
        let failed = Progress::Failed("progress deadline exceeded".into());
        assert_eq!(
            rollout_drift(Some(&failed), false).as_deref(),
            Some("failed: progress deadline exceeded")
        );
        assert_eq!(
            rollout_drift(Some(&waiting), true).as_deref(),
            Some("unfinished: 0/2 pods available")
        );
        assert_eq!(rollout_drift(Some(&waiting), false), None);
        assert_eq!(rollout_drift(Some(&Progress::Done), true), None);
        assert_eq!(rollout_drift(None, true), None);
    }
}
