//! `jke_cluster`: Terraform's calls mapped onto the platform model and the cluster.
//!
//! It connects without the provider's environment guard (it writes the marker the guard
//! reads) and checks the marker itself first: missing or equal to its `environment`.

pub mod plan;
pub mod schema;

use super::cluster_error::{detail, diagnostic as kube_diag};
use super::objects::{object_ref, resource_type};
use super::provider_config::ProviderConfig;
use super::resource::{Connected, Guard, Resource};
use crate::app::cluster::bundle::{self as platform, KINDS};
use crate::app::cluster::observe::{self, LiveNamespace};
use crate::app::cluster::spec::Spec;
use crate::app::formats::is_dns_label;
use crate::app::object::{Kind, Manifest};
use crate::kube::{Cluster, KubeError, ObjectRef, Propagation};
use crate::plugin::{
    ApplyRequest, ApplyResponse, AttrPath, Diagnostic, Diagnostics, ImportRequest, ImportResponse,
    ImportedResource, PlanRequest, PlanResponse, ReadRequest, ReadResponse, Schema, Value,
};
use std::collections::BTreeMap;
use tokio::sync::watch;

pub const TYPE_NAME: &str = "jke_cluster";

/// `jke_cluster`: the environment marker, the namespaces apps go to and the ClusterIssuers.
pub struct PlatformCluster;

#[tonic::async_trait]
impl Resource for PlatformCluster {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> Schema {
        schema::resource_schema()
    }
    fn guard(&self) -> Guard {
        Guard::OwnMarker
    }
    fn validate(&self, config: &Value, provider: &ProviderConfig) -> Diagnostics {
        validate(config, &plan::platform_profile(&provider.defaults))
    }
    fn plan(&self, req: &PlanRequest, provider: &ProviderConfig) -> PlanResponse {
        plan(req, &plan::platform_profile(&provider.defaults))
    }
    async fn read(&self, cx: &Connected<'_>, req: &ReadRequest) -> ReadResponse {
        read(cx.cluster, cx.eks_tag, req).await
    }
    async fn apply(
        &self,
        cx: &Connected<'_>,
        req: &ApplyRequest,
        stop: watch::Receiver<bool>,
    ) -> ApplyResponse {
        apply(cx.cluster, cx.eks_tag, req, stop).await
    }
    fn import_target(&self, req: &ImportRequest) -> Result<(), Diagnostic> {
        import_target(req).map(|_| ())
    }
    async fn import(&self, cx: &Connected<'_>, req: &ImportRequest) -> ImportResponse {
        import(cx.cluster, cx.eks_tag, req).await
    }
}

/// Why converging or deleting stopped.
enum Stop {
    Kube(KubeError),
    /// Deleting would take apps with it; nothing was deleted.
    AppsRemain(String),
}

impl From<KubeError> for Stop {
    fn from(e: KubeError) -> Self {
        Stop::Kube(e)
    }
}

fn stop_diag(e: &Stop, what: &str) -> Diagnostic {
    match e {
        Stop::Kube(k) => kube_diag(k, what),
        Stop::AppsRemain(m) => Diagnostic::error(format!("{what} failed"), m.clone()),
    }
}

pub fn validate(config: &Value, profile: &str) -> Diagnostics {
    match plan::planned_state(config, profile) {
        Ok((_, _, diags)) => diags,
        Err(d) => d,
    }
}

pub fn plan(req: &PlanRequest, profile: &str) -> PlanResponse {
    if req.proposed_new_state.is_null() {
        return PlanResponse::default();
    }
    match plan::planned_state(&req.config, profile) {
        Ok((_, planned, diagnostics)) => PlanResponse {
            planned_state: planned,
            diagnostics,
            ..PlanResponse::default()
        },
        Err(diagnostics) => PlanResponse {
            diagnostics,
            ..PlanResponse::default()
        },
    }
}

pub async fn read(cluster: &Cluster, eks_tag: Option<&str>, req: &ReadRequest) -> ReadResponse {
    let keep = |diagnostics: Diagnostics| ReadResponse {
        new_state: req.current_state.clone(),
        private: req.private.clone(),
        diagnostics,
        ..ReadResponse::default()
    };
    let (spec, _) = match plan::decode_state(&req.current_state) {
        Ok(x) => x,
        Err(d) => return keep(d),
    };
    let what = format!("Reading jke_cluster {:?}", spec.environment);
    if let Err(e) = cluster.check_marker_for(&spec.environment, eks_tag).await {
        return keep(kube_diag(&e, &what).into());
    }
    let objects = platform::render(&spec);
    let refs: Vec<ObjectRef> = objects.iter().map(object_ref).collect();
    let live = match cluster.get_all(&refs).await {
        Ok(l) => l,
        Err(e) => return keep(kube_diag(&e, &what).into()),
    };
    match observe::drift(&objects, &live) {
        None => {
            tracing::info!(environment = %spec.environment, "jke_cluster objects deleted outside Terraform; removing from state");
            ReadResponse::default()
        }
        Some(drift) => ReadResponse {
            new_state: plan::encode_state(&spec, &objects, &drift),
            private: req.private.clone(),
            ..ReadResponse::default()
        },
    }
}

/// Objects labelled as jke_cluster's, of the kinds it prunes (never the marker ConfigMap).
async fn labelled(cluster: &Cluster) -> Result<Vec<ObjectRef>, KubeError> {
    let types: Vec<_> = KINDS
        .into_iter()
        .filter(|k| *k != Kind::ConfigMap)
        .map(resource_type)
        .collect();
    cluster
        .list_types(&types, None, &platform::label_selector())
        .await
}

/// Delete `targets` (objects of this resource) in reverse apply order. Refuses, before
/// deleting anything, when a namespace among them still has Deployments.
async fn delete_objects(cluster: &Cluster, targets: &[ObjectRef]) -> Result<(), Stop> {
    let mut busy = Vec::new();
    for t in targets
        .iter()
        .filter(|t| t.ty.kind == Kind::Namespace.name())
    {
        let deployments = cluster.deployment_names(&t.name).await?;
        if !deployments.is_empty() {
            busy.push(format!(
                "{} (Deployments: {})",
                t.name,
                deployments.join(", ")
            ));
        }
    }
    if !busy.is_empty() {
        return Err(Stop::AppsRemain(format!(
            "not deleting namespaces that still run apps: {}; nothing was deleted. Remove those apps (their jke_application blocks) first, or keep the namespaces in `namespaces`",
            busy.join("; ")
        )));
    }
    let order = |r: &ObjectRef| {
        KINDS
            .iter()
            .position(|k| k.name() == r.ty.kind)
            .unwrap_or(0)
    };
    let mut sorted: Vec<&ObjectRef> = targets.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(order(r)));
    // Background: a namespace's own finalizer removes what it holds, and issuers have no
    // dependents, so nothing is gained by keeping the object until dependents are gone.
    for r in sorted {
        tracing::info!(object = %r.describe(), "deleting");
        cluster.delete(r, Propagation::Background).await?;
    }
    Ok(())
}

/// Apply every object in order (waiting for the ClusterIssuer CRD if need be), then delete
/// labelled objects the spec no longer has.
async fn converge(
    cluster: &Cluster,
    spec: &Spec,
    objects: &[Manifest],
    stop: &mut watch::Receiver<bool>,
) -> Result<(), Stop> {
    for o in objects {
        let r = object_ref(o);
        if o.kind.is_custom() {
            cluster
                .apply_when_served(&r, &o.object, spec.crd_wait(), stop)
                .await?;
        } else {
            cluster.apply(&r, &o.object).await?;
        }
    }
    let keep: Vec<ObjectRef> = objects.iter().map(object_ref).collect();
    let stale: Vec<ObjectRef> = labelled(cluster)
        .await?
        .into_iter()
        .filter(|r| !keep.contains(r))
        .collect();
    if !stale.is_empty() {
        tracing::info!(objects = ?stale.iter().map(ObjectRef::describe).collect::<Vec<_>>(), "pruning objects jke_cluster no longer has");
        delete_objects(cluster, &stale).await?;
    }
    Ok(())
}

pub async fn apply(
    cluster: &Cluster,
    eks_tag: Option<&str>,
    req: &ApplyRequest,
    mut stop: watch::Receiver<bool>,
) -> ApplyResponse {
    if req.planned_state.is_null() {
        return destroy(cluster, eks_tag, &req.prior_state).await;
    }
    let (spec, _) = match plan::decode_state(&req.planned_state) {
        Ok(x) => x,
        Err(d) => {
            return ApplyResponse {
                new_state: req.prior_state.clone(),
                diagnostics: d,
                ..ApplyResponse::default()
            };
        }
    };
    let what = format!("Applying jke_cluster {:?}", spec.environment);
    if let Err(e) = cluster.check_marker_for(&spec.environment, eks_tag).await {
        return ApplyResponse {
            new_state: req.prior_state.clone(),
            diagnostics: kube_diag(&e, &what).into(),
            ..ApplyResponse::default()
        };
    }
    tracing::info!(environment = %spec.environment, "applying jke_cluster");
    let objects = platform::render(&spec);
    match converge(cluster, &spec, &objects, &mut stop).await {
        Ok(()) => ApplyResponse {
            new_state: plan::encode_state(&spec, &objects, &BTreeMap::new()),
            ..ApplyResponse::default()
        },
        // Objects may be partly written. A first apply records nothing (the next apply adopts
        // what is there); an update records the intent, so the next plan reads the cluster
        // and converges.
        Err(e) => ApplyResponse {
            new_state: if req.prior_state.is_null() {
                Value::Null
            } else {
                plan::encode_state(&spec, &objects, &BTreeMap::new())
            },
            diagnostics: stop_diag(&e, &what).into(),
            ..ApplyResponse::default()
        },
    }
}

/// Delete the namespaces (with their LimitRange and ResourceQuota) and the ClusterIssuers.
/// The environment marker stays: the cluster keeps saying which environment it is.
async fn destroy(cluster: &Cluster, eks_tag: Option<&str>, prior_state: &Value) -> ApplyResponse {
    let (spec, _) = match plan::decode_state(prior_state) {
        Ok(x) => x,
        Err(d) => {
            return ApplyResponse {
                new_state: prior_state.clone(),
                diagnostics: d,
                ..ApplyResponse::default()
            };
        }
    };
    let what = format!("Deleting jke_cluster {:?}", spec.environment);
    let result = async {
        cluster
            .check_marker_for(&spec.environment, eks_tag)
            .await
            .map_err(Stop::Kube)?;
        let mut targets: Vec<ObjectRef> = platform::render(&spec)
            .iter()
            .filter(|o| o.kind != Kind::ConfigMap)
            .map(object_ref)
            .collect();
        for found in labelled(cluster).await? {
            if !targets.contains(&found) {
                targets.push(found);
            }
        }
        delete_objects(cluster, &targets).await
    }
    .await;
    match result {
        Ok(()) => ApplyResponse::default(),
        Err(e) => ApplyResponse {
            new_state: prior_state.clone(),
            diagnostics: stop_diag(&e, &what).into(),
            ..ApplyResponse::default()
        },
    }
}

/// The environment named by an import ID.
pub fn import_target(req: &ImportRequest) -> Result<String, Diagnostic> {
    let id = req.id.trim();
    if is_dns_label(id) {
        Ok(id.to_string())
    } else {
        Err(Diagnostic::error(
            "Invalid import ID",
            format!(
                "import ID {:?} must be the cluster's environment (a DNS label such as \"prod\"), as its ConfigMap {}/{} says",
                req.id,
                platform::MARKER_NAMESPACE,
                platform::MARKER_NAME
            ),
        )
        .at(AttrPath::attr("id")))
    }
}

async fn live_for_import(cluster: &Cluster, environment: &str) -> Result<Spec, String> {
    let marker_ref = ObjectRef {
        ty: resource_type(Kind::ConfigMap),
        namespace: Some(platform::MARKER_NAMESPACE.into()),
        name: platform::MARKER_NAME.into(),
    };
    let marker = cluster
        .get(&marker_ref)
        .await
        .map_err(|e| detail(&e))?
        .ok_or_else(|| {
            format!(
                "the cluster at {} has no ConfigMap {}/{}, so there is no jke_cluster to import; apply one instead",
                cluster.host,
                platform::MARKER_NAMESPACE,
                platform::MARKER_NAME
            )
        })?;
    let have = marker
        .pointer(&format!("/data/{}", platform::MARKER_KEY))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    if have != environment {
        return Err(format!(
            "the cluster at {} is marked as environment {have:?}, not {environment:?}; check the import ID and the provider's connection settings",
            cluster.host
        ));
    }
    let sel = platform::label_selector();
    let list = |k: Kind| {
        let sel = sel.clone();
        async move {
            cluster
                .list_objects(&resource_type(k), &sel)
                .await
                .map_err(|e| detail(&e))
        }
    };
    let issuers = list(Kind::ClusterIssuer).await?;
    let namespaces = list(Kind::Namespace).await?;
    let limit_ranges = list(Kind::LimitRange).await?;
    let quotas = list(Kind::ResourceQuota).await?;
    let policies = list(Kind::NetworkPolicy).await?;
    let named = |objs: &[serde_json::Value], ns: &str, name: &str| {
        objs.iter()
            .find(|o| {
                o.pointer("/metadata/namespace").and_then(|v| v.as_str()) == Some(ns)
                    && o.pointer("/metadata/name").and_then(|v| v.as_str()) == Some(name)
            })
            .cloned()
    };
    let live_ns: BTreeMap<String, LiveNamespace> = namespaces
        .iter()
        .filter_map(|n| {
            let name = n.pointer("/metadata/name")?.as_str()?.to_string();
            Some((
                name.clone(),
                LiveNamespace {
                    namespace: n.clone(),
                    limit_range: named(&limit_ranges, &name, platform::LIMIT_RANGE_NAME),
                    quota: named(&quotas, &name, platform::QUOTA_NAME),
                    default_deny: named(&policies, &name, platform::DEFAULT_DENY_NAME),
                },
            ))
        })
        .collect();
    Ok(observe::import(&marker, &issuers, &live_ns))
}

pub async fn import(
    cluster: &Cluster,
    eks_tag: Option<&str>,
    req: &ImportRequest,
) -> ImportResponse {
    let fail = |d: Diagnostic| ImportResponse {
        diagnostics: d.into(),
        ..ImportResponse::default()
    };
    let environment = match import_target(req) {
        Ok(e) => e,
        Err(d) => return fail(d),
    };
    let what = format!("Importing jke_cluster {environment:?}");
    if let Err(e) = cluster.check_marker_for(&environment, eks_tag).await {
        return fail(kube_diag(&e, &what));
    }
    match live_for_import(cluster, &environment).await {
        Ok(spec) => ImportResponse {
            imported: vec![ImportedResource {
                type_name: TYPE_NAME.to_string(),
                state: plan::encode_state(&spec, &platform::render(&spec), &BTreeMap::new()),
                private: Vec::new(),
                identity: None,
            }],
            diagnostics: Diagnostics::new(),
        },
        Err(e) => fail(Diagnostic::error(format!("{what} failed"), e)),
    }
}
