//! `jke_cluster` through the provider's own interface (the calls the protocol server makes)
//! against the local cluster: plan without cert-manager, apply that waits for the
//! ClusterIssuer CRD, drift, the environment marker and its guard, prune and destroy.
//!
//! ```sh
//! tests/cluster/up /tmp/jke-cluster
//! JKE_TEST_KUBECONFIG=/tmp/jke-cluster/kubeconfig \
//!   cargo test -p terraform-provider-jke --test integration jke_cluster_local:: -- --include-ignored
//! ```
//!
//! One test function: the marker ConfigMap and the CRD are cluster-wide, so the steps must
//! not run in parallel. It removes both at the start and at the end.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, ResourceQuota};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
};
use kube::config::Kubeconfig;
use kube::{Client, Config};
use serde_json::{Value as Json, json};
use terraform_provider_jke::plugin::{
    ApplyRequest, ApplyResponse, ClientCapabilities, ConfigureRequest, Diagnostics, PlanRequest,
    Provider, ReadRequest, Value,
};
use terraform_provider_jke::resources::{JkeProvider, cluster, convert, provider_config};

const KUBECONFIG_ENV: &str = "JKE_TEST_KUBECONFIG";
const DEADLINE: Duration = Duration::from_secs(180);
const ENV: &str = "lc-jke-cluster";

fn kubeconfig() -> (String, String) {
    let path = std::env::var(KUBECONFIG_ENV).unwrap_or_else(|_| {
        panic!("{KUBECONFIG_ENV} is not set: start the local cluster with tests/cluster/up DIR")
    });
    let kc = Kubeconfig::read_from(&path).expect("read kubeconfig");
    let ctx = kc
        .current_context
        .clone()
        .expect("kubeconfig has a current context");
    (path, ctx)
}

async fn admin() -> Client {
    let (path, _) = kubeconfig();
    let kc = Kubeconfig::read_from(&path).expect("read kubeconfig");
    let cfg = Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("client config");
    Client::try_from(cfg).expect("client")
}

async fn provider(environment: Option<&str>) -> JkeProvider {
    let (path, ctx) = kubeconfig();
    let mut cfg = json!({ "kubernetes": { "config_path": path, "config_context": ctx } });
    if let Some(e) = environment {
        cfg["environment"] = json!(e);
    }
    let p = JkeProvider::new();
    let diags = p
        .configure(ConfigureRequest {
            terraform_version: "1.15.0".into(),
            config: convert::from_json(&cfg, &provider_config::schema().block.value_type()),
            capabilities: ClientCapabilities::default(),
        })
        .await;
    assert!(diags.is_empty(), "{diags:?}");
    p
}

fn config(j: Json) -> Value {
    convert::from_json(&j, cluster::plan::resource_type())
}

fn errors(d: &Diagnostics) -> String {
    d.0.iter()
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn plan(p: &JkeProvider, prior: &Value, cfg: &Value) -> Value {
    let r = p
        .plan_resource_change(PlanRequest {
            type_name: cluster::TYPE_NAME.into(),
            prior_state: prior.clone(),
            proposed_new_state: cfg.clone(),
            config: cfg.clone(),
            prior_private: Vec::new(),
            prior_identity: None,
            capabilities: ClientCapabilities::default(),
        })
        .await;
    assert!(!r.diagnostics.has_errors(), "{}", errors(&r.diagnostics));
    r.planned_state
}

async fn apply(p: &JkeProvider, prior: &Value, planned: &Value, cfg: &Value) -> ApplyResponse {
    p.apply_resource_change(ApplyRequest {
        type_name: cluster::TYPE_NAME.into(),
        prior_state: prior.clone(),
        planned_state: planned.clone(),
        config: cfg.clone(),
        planned_private: Vec::new(),
        planned_identity: None,
    })
    .await
}

async fn read(p: &JkeProvider, state: &Value) -> Value {
    let r = p
        .read_resource(ReadRequest {
            type_name: cluster::TYPE_NAME.into(),
            current_state: state.clone(),
            private: Vec::new(),
            current_identity: None,
            capabilities: ClientCapabilities::default(),
        })
        .await;
    assert!(!r.diagnostics.has_errors(), "{}", errors(&r.diagnostics));
    r.new_state
}

fn crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": "clusterissuers.cert-manager.io" },
        "spec": {
            "group": "cert-manager.io",
            "scope": "Cluster",
            "names": { "kind": "ClusterIssuer", "listKind": "ClusterIssuerList", "plural": "clusterissuers", "singular": "clusterissuer" },
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": { "openAPIV3Schema": { "type": "object", "properties": {
                    "spec": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                    "status": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
                } } }
            }]
        }
    }))
    .expect("CRD")
}

fn issuers(client: &Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cert-manager.io", "v1", "ClusterIssuer"),
        "clusterissuers",
    );
    Api::all_with(client.clone(), &ar)
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < DEADLINE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Nothing of an earlier run: no marker, no CRD (and the API no longer serving it), no
/// namespace of this test.
async fn clean(client: &Client) {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    let _ = cms
        .delete("jke-environment", &DeleteParams::default())
        .await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let _ = crds
        .delete("clusterissuers.cert-manager.io", &DeleteParams::default())
        .await;
    let ci = issuers(client);
    wait_until("the ClusterIssuer type to be gone", || async {
        matches!(ci.list(&Default::default()).await, Err(kube::Error::Api(s)) if s.code == 404)
    })
    .await;
    let nss: Api<Namespace> = Api::all(client.clone());
    for n in ["lc-shop", "lc-tools"] {
        let _ = nss.delete(n, &DeleteParams::default()).await;
    }
    wait_until("test namespaces to be gone", || async {
        nss.get_opt("lc-shop").await.ok().flatten().is_none()
            && nss.get_opt("lc-tools").await.ok().flatten().is_none()
    })
    .await;
}

fn full_config(wait: &str) -> Value {
    config(json!({
        "environment": ENV,
        "ingress_class": "nginx",
        "issuers": [{ "name": "lc-letsencrypt", "email": "platform@example.com", "http01_ingress_class": "nginx" }],
        "namespaces": {
            "lc-shop": {
                "labels": { "team": "shop" },
                "limit_range": { "default_cpu": "500m", "default_memory": "512Mi" },
                "quota": { "cpu": "4", "memory": "8Gi", "pods": 20 }
            },
            "lc-tools": {}
        },
        "crd_wait_timeout": wait,
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn jke_cluster_plans_without_cert_manager_waits_for_its_crd_reports_drift_and_guards_the_environment()
 {
    let client = admin().await;
    clean(&client).await;

    // 1. Plan needs neither the cluster nor the CRD.
    let p = provider(Some(ENV)).await;
    let cfg = full_config("3s");
    let planned = plan(&p, &Value::Null, &cfg).await;
    assert_eq!(
        planned.get("default_issuer"),
        Some(&Value::string("lc-letsencrypt"))
    );

    // 2. Without the CRD the apply waits crd_wait_timeout and names the CRD; a first apply
    //    records nothing. The guard did not stop it: the cluster had no marker.
    let r = apply(&p, &Value::Null, &planned, &cfg).await;
    let err = errors(&r.diagnostics);
    assert!(err.contains("clusterissuers.cert-manager.io"), "{err}");
    assert!(r.new_state.is_null());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    let marker = cms
        .get("jke-environment")
        .await
        .expect("marker written before the issuers");
    assert_eq!(
        marker
            .data
            .unwrap_or_default()
            .get("name")
            .map(String::as_str),
        Some(ENV)
    );

    // 3. The CRD arrives while the apply waits.
    let cfg = full_config("2m");
    let planned = plan(&p, &Value::Null, &cfg).await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let installer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        crds.create(&Default::default(), &crd()).await.map(|_| ())
    });
    let r = apply(&p, &Value::Null, &planned, &cfg).await;
    installer.await.expect("join").expect("create CRD");
    assert!(!r.diagnostics.has_errors(), "{}", errors(&r.diagnostics));
    let state = r.new_state;
    assert_eq!(state, planned);
    let ci = issuers(&client)
        .get("lc-letsencrypt")
        .await
        .expect("ClusterIssuer");
    assert_eq!(
        ci.data["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["ingressClassName"],
        "nginx"
    );
    let lr: Api<LimitRange> = Api::namespaced(client.clone(), "lc-shop");
    assert!(lr.get("jke-limits").await.is_ok());
    let rq: Api<ResourceQuota> = Api::namespaced(client.clone(), "lc-shop");
    assert!(rq.get("jke-quota").await.is_ok());

    // 4. Read: no drift; then a quota changed out of band shows in `drift`.
    let read_back = read(&p, &state).await;
    assert_eq!(read_back, state, "no drift right after apply");
    rq.patch(
        "jke-quota",
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "hard": { "pods": "99" } } })),
    )
    .await
    .expect("patch quota");
    let drifted = read(&p, &state).await;
    let drift = drifted
        .get("drift")
        .and_then(Value::entries)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        drift.get("ResourceQuota/lc-shop/jke-quota: spec.hard.pods"),
        Some(&Value::string("99")),
        "{drift:?}"
    );
    // Applying again restores it.
    let r = apply(&p, &drifted, &state, &cfg).await;
    assert!(!r.diagnostics.has_errors(), "{}", errors(&r.diagnostics));
    assert_eq!(read(&p, &r.new_state).await, state);

    // 5. Another environment is refused: by the provider setting, and by the marker.
    let other = provider(Some("lc-other")).await;
    let r = apply(&other, &state, &state, &cfg).await;
    assert!(
        errors(&r.diagnostics).contains("\"lc-other\""),
        "{}",
        errors(&r.diagnostics)
    );
    let unset = provider(None).await;
    let mut other_cfg = full_config("2m");
    if let Value::Object(m) = &mut other_cfg {
        m.insert("environment".into(), Value::string("lc-other"));
    }
    let other_planned = plan(&unset, &state, &other_cfg).await;
    let r = apply(&unset, &state, &other_planned, &other_cfg).await;
    let err = errors(&r.diagnostics);
    assert!(
        err.contains("marked as environment") && err.contains(ENV),
        "{err}"
    );

    // 6. Prune: a namespace removed from the map goes; an issuer-less config prunes issuers.
    let smaller = config(json!({ "environment": ENV, "namespaces": { "lc-shop": {} } }));
    let smaller_planned = plan(&p, &state, &smaller).await;
    let r = apply(&p, &state, &smaller_planned, &smaller).await;
    assert!(!r.diagnostics.has_errors(), "{}", errors(&r.diagnostics));
    let nss: Api<Namespace> = Api::all(client.clone());
    wait_until("lc-tools to be deleted", || async {
        nss.get_opt("lc-tools")
            .await
            .ok()
            .flatten()
            .is_none_or(|n| n.metadata.deletion_timestamp.is_some())
    })
    .await;
    assert!(
        issuers(&client)
            .get_opt("lc-letsencrypt")
            .await
            .expect("get")
            .is_none()
    );
    assert!(lr.get_opt("jke-limits").await.expect("get").is_none());
    let state = r.new_state;

    // 7. Destroy deletes the namespace and keeps the marker.
    let r = apply(&p, &state, &Value::Null, &Value::Null).await;
    assert!(!r.diagnostics.has_errors(), "{}", errors(&r.diagnostics));
    assert!(r.new_state.is_null());
    wait_until("lc-shop to be deleted", || async {
        nss.get_opt("lc-shop")
            .await
            .ok()
            .flatten()
            .is_none_or(|n| n.metadata.deletion_timestamp.is_some())
    })
    .await;
    assert!(cms.get_opt("jke-environment").await.expect("get").is_some());

    clean(&client).await;
}
