//! Proof that the local control plane (tests/cluster/up) is a real Kubernetes API server:
//! the behaviours the provider relies on (scheduling and rollout, server-side apply with field
//! managers, validation, policy objects, garbage collection, ServiceAccount tokens), exercised
//! with the same `kube` client stack the provider uses.
//!
//! Needs a running cluster; its admin kubeconfig path in `JKE_TEST_KUBECONFIG`:
//!
//! ```sh
//! tests/cluster/up /tmp/jke-cluster
//! JKE_TEST_KUBECONFIG=/tmp/jke-cluster/kubeconfig \
//!   cargo test -p terraform-provider-jke --test integration cluster_proof:: -- --include-ignored
//! tests/cluster/down /tmp/jke-cluster
//! ```
//!
//! Every test works in a namespace of its own and removes it when it passes. Waits poll with a
//! generous deadline; nothing asserts how long anything took.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

const KUBECONFIG_ENV: &str = "JKE_TEST_KUBECONFIG";
/// Generous: the cluster shares two cores with cargo and Terraform in CI.
const DEADLINE: Duration = Duration::from_secs(180);

fn kubeconfig_path() -> String {
    std::env::var(KUBECONFIG_ENV).unwrap_or_else(|_| {
        panic!(
            "{KUBECONFIG_ENV} is not set: these tests need the local cluster. Start it with \
             `tests/cluster/up DIR` and set {KUBECONFIG_ENV}=DIR/kubeconfig (tests/run does both)"
        )
    })
}

async fn client_from(kubeconfig: Kubeconfig) -> Client {
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig gives a client configuration");
    Client::try_from(config).expect("client from configuration")
}

async fn admin_client() -> Client {
    let path = kubeconfig_path();
    let kubeconfig = Kubeconfig::read_from(&path)
        .unwrap_or_else(|e| panic!("cannot read {KUBECONFIG_ENV}={path}: {e}"));
    client_from(kubeconfig).await
}

/// Polls `check` until it returns `Some`, or panics after [`DEADLINE`] with `what` and the
/// last state seen.
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let start = Instant::now();
    let mut last = String::from("(not checked yet)");
    loop {
        match check().await {
            Ok(Some(value)) => return value,
            Ok(None) => {}
            Err(state) => last = state,
        }
        if start.elapsed() > DEADLINE {
            panic!("gave up after {DEADLINE:?} waiting for {what}; last seen: {last}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A namespace of the test's own, with its `default` ServiceAccount in place (pods need it).
struct TestNamespace {
    client: Client,
    name: String,
}

impl TestNamespace {
    async fn new(client: &Client, test: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "lc-{test}-{:x}{:x}",
            std::process::id() & 0xfff,
            nanos & 0xfffff
        );
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace = serde_json::from_value(json!({
            "metadata": { "name": name, "labels": { "jke.test/suite": "local-cluster" } }
        }))
        .unwrap();
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("create test namespace");
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
        wait_for(&format!("ServiceAccount {name}/default"), || async {
            sas.get_opt("default")
                .await
                .map_err(|e| e.to_string())
                .map(|sa| sa.map(|_| ()))
        })
        .await;
        TestNamespace {
            client: client.clone(),
            name,
        }
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Called at the end of a passing test; a failing one leaves its namespace for inspection.
    async fn delete(self) {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        namespaces
            .delete(&self.name, &DeleteParams::default())
            .await
            .expect("delete test namespace");
    }
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(deployment_json(name, replicas)).unwrap()
}

fn deployment_json(name: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name, "labels": { "app": name } },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{
                        "name": "app",
                        "image": "registry.example/jke/app:1.0.0",
                        "ports": [{ "containerPort": 8080 }],
                        "resources": {
                            "requests": { "cpu": "1", "memory": "2Gi" },
                            "limits": { "cpu": "1", "memory": "2Gi" }
                        }
                    }]
                }
            }
        }
    })
}

fn condition_true(d: &Deployment, kind: &str) -> bool {
    d.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == kind && c.status == "True"))
}

/// Waits until the Deployment's current generation is rolled out and Available with `replicas`.
async fn wait_available(api: &Api<Deployment>, name: &str, replicas: i32) -> Deployment {
    wait_for(
        &format!("Deployment {name} Available with {replicas} replicas"),
        || async {
            let d = api.get(name).await.map_err(|e| e.to_string())?;
            let status = d.status.clone().unwrap_or_default();
            let current = status.observed_generation >= d.metadata.generation
                && status.available_replicas == Some(replicas)
                && status.updated_replicas == Some(replicas)
                && condition_true(&d, "Available");
            if current {
                Ok(Some(d))
            } else {
                Err(format!("{status:?}"))
            }
        },
    )
    .await
}

fn api_error(result: Result<impl std::fmt::Debug, kube::Error>, what: &str) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("{what}: expected an error from the API server, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn deployment_of_two_replicas_becomes_available_on_kwok_nodes() {
    let client = admin_client().await;
    let ns = TestNamespace::new(&client, "deploy").await;
    let deployments: Api<Deployment> = ns.api();

    deployments
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .expect("create Deployment");
    let d = wait_available(&deployments, "web", 2).await;
    assert_eq!(d.status.as_ref().unwrap().ready_replicas, Some(2));

    let pods: Api<Pod> = ns.api();
    let pods = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list pods");
    assert_eq!(pods.items.len(), 2, "two pods for two replicas");
    let nodes: Api<Node> = Api::all(client.clone());
    for pod in &pods.items {
        let pod_name = pod.metadata.name.as_deref().unwrap();
        let status = pod.status.as_ref().expect("pod status");
        assert_eq!(status.phase.as_deref(), Some("Running"), "pod {pod_name}");
        assert!(
            status.pod_ip.is_some(),
            "pod {pod_name} has an IP from kwok"
        );
        let node_name = pod
            .spec
            .as_ref()
            .unwrap()
            .node_name
            .as_deref()
            .expect("pod is scheduled");
        let node = nodes.get(node_name).await.expect("get node");
        let labels = node.metadata.labels.unwrap_or_default();
        assert_eq!(
            labels.get("type").map(String::as_str),
            Some("kwok"),
            "pod {pod_name} on {node_name}"
        );
        assert!(
            labels.contains_key("topology.kubernetes.io/zone"),
            "node {node_name} has a zone"
        );
    }

    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn server_side_apply_by_two_managers_conflicts_and_records_both() {
    let client = admin_client().await;
    let ns = TestNamespace::new(&client, "ssa").await;
    let deployments: Api<Deployment> = ns.api();

    // Manager A owns the whole spec, as the provider does with field manager `jke`.
    deployments
        .patch(
            "app",
            &PatchParams::apply("jke-test-a"),
            &Patch::Apply(deployment_json("app", 2)),
        )
        .await
        .expect("apply by jke-test-a");

    // Manager B adds a field nobody owns: no conflict, the object now has two managers.
    let labels_only = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "app", "labels": { "team": "b" } }
    });
    deployments
        .patch(
            "app",
            &PatchParams::apply("jke-test-b"),
            &Patch::Apply(&labels_only),
        )
        .await
        .expect("apply of an unowned field by jke-test-b");

    // Manager B sets a field A owns, to another value, without force: 409 Conflict.
    let replicas = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "app", "labels": { "team": "b" } },
        "spec": { "replicas": 5 }
    });
    let status = api_error(
        deployments
            .patch(
                "app",
                &PatchParams::apply("jke-test-b"),
                &Patch::Apply(&replicas),
            )
            .await,
        "apply of spec.replicas by a second manager",
    );
    assert_eq!(status.code, 409, "{status:?}");
    assert_eq!(status.reason, "Conflict", "{status:?}");
    assert!(
        status.message.contains("jke-test-a"),
        "conflict names the owner: {}",
        status.message
    );
    assert!(
        status.message.contains(".spec.replicas"),
        "conflict names the field: {}",
        status.message
    );

    let d = deployments.get("app").await.expect("get Deployment");
    assert_eq!(
        d.spec.as_ref().unwrap().replicas,
        Some(2),
        "the conflicting apply changed nothing"
    );
    let managed = d.metadata.managed_fields.clone().unwrap_or_default();
    let appliers: Vec<&str> = managed
        .iter()
        .filter(|m| m.operation.as_deref() == Some("Apply"))
        .filter_map(|m| m.manager.as_deref())
        .collect();
    assert!(
        appliers.contains(&"jke-test-a"),
        "managedFields: {managed:?}"
    );
    assert!(
        appliers.contains(&"jke-test-b"),
        "managedFields: {managed:?}"
    );

    // With force, B takes spec.replicas over and A no longer owns it.
    let d = deployments
        .patch(
            "app",
            &PatchParams::apply("jke-test-b").force(),
            &Patch::Apply(&replicas),
        )
        .await
        .expect("forced apply by jke-test-b");
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(5));
    let owns_replicas = |manager: &str| {
        d.metadata.managed_fields.iter().flatten().any(|m| {
            m.manager.as_deref() == Some(manager)
                && m.fields_v1
                    .as_ref()
                    .is_some_and(|f| f.0.pointer("/f:spec/f:replicas").is_some())
        })
    };
    assert!(owns_replicas("jke-test-b"));
    assert!(!owns_replicas("jke-test-a"));

    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn pod_disruption_budget_reports_current_healthy() {
    let client = admin_client().await;
    let ns = TestNamespace::new(&client, "pdb").await;
    let deployments: Api<Deployment> = ns.api();
    deployments
        .create(&PostParams::default(), &deployment("api", 2))
        .await
        .expect("create Deployment");

    let pdbs: Api<PodDisruptionBudget> = ns.api();
    let pdb: PodDisruptionBudget = serde_json::from_value(json!({
        "metadata": { "name": "api" },
        "spec": { "minAvailable": 1, "selector": { "matchLabels": { "app": "api" } } }
    }))
    .unwrap();
    pdbs.create(&PostParams::default(), &pdb)
        .await
        .expect("create PodDisruptionBudget");

    let status = wait_for("PodDisruptionBudget api with 2 healthy pods", || async {
        let pdb = pdbs.get("api").await.map_err(|e| e.to_string())?;
        let status = pdb.status.clone().unwrap_or_default();
        if status.current_healthy == 2 && status.expected_pods == 2 {
            Ok(Some(status))
        } else {
            Err(format!("{status:?}"))
        }
    })
    .await;
    assert_eq!(status.desired_healthy, 1);
    assert_eq!(status.disruptions_allowed, 1);

    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn autoscaler_v2_and_ingress_are_accepted() {
    let client = admin_client().await;
    let ns = TestNamespace::new(&client, "hpa").await;
    let deployments: Api<Deployment> = ns.api();
    deployments
        .create(&PostParams::default(), &deployment("shop", 2))
        .await
        .expect("create Deployment");

    let hpas: Api<HorizontalPodAutoscaler> = ns.api();
    let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": { "name": "shop" },
        "spec": {
            "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "shop" },
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [{
                "type": "Resource",
                "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": 70 } }
            }]
        }
    }))
    .unwrap();
    let created = hpas
        .create(&PostParams::default(), &hpa)
        .await
        .expect("create autoscaling/v2 HPA");
    assert!(created.metadata.uid.is_some());
    let stored = hpas.get("shop").await.expect("get HPA");
    let spec = stored.spec.expect("HPA spec");
    assert_eq!((spec.min_replicas, spec.max_replicas), (Some(2), 10));
    let target = &spec.metrics.as_ref().unwrap()[0]
        .resource
        .as_ref()
        .unwrap()
        .target;
    assert_eq!(target.average_utilization, Some(70));

    let ingresses: Api<Ingress> = ns.api();
    let ingress: Ingress = serde_json::from_value(json!({
        "metadata": { "name": "shop" },
        "spec": {
            "tls": [{ "hosts": ["shop.example.com"], "secretName": "shop-tls" }],
            "rules": [{
                "host": "shop.example.com",
                "http": { "paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": { "service": { "name": "shop", "port": { "number": 80 } } }
                }]}
            }]
        }
    }))
    .unwrap();
    let created = ingresses
        .create(&PostParams::default(), &ingress)
        .await
        .expect("create Ingress");
    assert!(created.metadata.uid.is_some());
    let stored = ingresses.get("shop").await.expect("get Ingress");
    let rules = stored.spec.unwrap().rules.unwrap();
    assert_eq!(rules[0].host.as_deref(), Some("shop.example.com"));

    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn invalid_quantity_is_rejected_by_the_api_server() {
    let client = admin_client().await;
    let ns = TestNamespace::new(&client, "invalid").await;
    let deployments: Api<Deployment> = ns.api();

    // A well-formed but invalid quantity fails validation: 422 Invalid, with the field's path.
    let mut negative = deployment_json("neg", 1);
    negative["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] =
        json!("-1");
    let negative: Deployment = serde_json::from_value(negative).unwrap();
    let status = api_error(
        deployments.create(&PostParams::default(), &negative).await,
        "Deployment with cpu limit -1",
    );
    assert_eq!(status.code, 422, "{status:?}");
    assert_eq!(status.reason, "Invalid", "{status:?}");
    assert!(
        status
            .message
            .contains("spec.template.spec.containers[0].resources.limits[cpu]"),
        "the message names the field: {}",
        status.message
    );

    // The same through server-side apply, as the provider sends it.
    let mut applied = deployment_json("neg", 1);
    applied["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] =
        json!("-1");
    let status = api_error(
        deployments
            .patch(
                "neg",
                &PatchParams::apply("jke-test"),
                &Patch::Apply(&applied),
            )
            .await,
        "server-side apply with cpu limit -1",
    );
    assert_eq!(status.code, 422, "{status:?}");

    // A request above its limit is the other classic: 422 as well.
    let mut over = deployment_json("over", 1);
    over["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] =
        json!("4Gi");
    let status = api_error(
        deployments
            .patch(
                "over",
                &PatchParams::apply("jke-test"),
                &Patch::Apply(&over),
            )
            .await,
        "memory request above its limit",
    );
    assert_eq!(status.code, 422, "{status:?}");

    // A quantity that does not parse at all never reaches validation: the body cannot be
    // decoded. A create answers 400 BadRequest; server-side apply (v1.35) even answers 500,
    // "failed to convert new object": the provider must check quantities itself to give the
    // user a proper error.
    let mut garbage = deployment_json("garbage", 1);
    garbage["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] =
        json!("lots");
    let status = api_error(
        deployments
            .create(
                &PostParams::default(),
                &serde_json::from_value(garbage.clone()).unwrap(),
            )
            .await,
        "create with cpu limit 'lots'",
    );
    assert_eq!(status.code, 400, "{status:?}");
    assert!(
        status.message.contains("quantities must match"),
        "{}",
        status.message
    );
    let status = api_error(
        deployments
            .patch(
                "garbage",
                &PatchParams::apply("jke-test"),
                &Patch::Apply(&garbage),
            )
            .await,
        "server-side apply with cpu limit 'lots'",
    );
    assert!(matches!(status.code, 400 | 500), "{status:?}");
    assert!(
        status.message.contains("quantities must match"),
        "{}",
        status.message
    );

    assert!(
        deployments
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing was stored"
    );
    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn foreground_deletion_removes_replicasets_and_pods() {
    let client = admin_client().await;
    let ns = TestNamespace::new(&client, "gc").await;
    let deployments: Api<Deployment> = ns.api();
    let replicasets: Api<ReplicaSet> = ns.api();
    let pods: Api<Pod> = ns.api();
    let selector = ListParams::default().labels("app=gone");

    deployments
        .create(&PostParams::default(), &deployment("gone", 2))
        .await
        .expect("create Deployment");
    wait_available(&deployments, "gone", 2).await;
    assert_eq!(replicasets.list(&selector).await.unwrap().items.len(), 1);
    assert_eq!(pods.list(&selector).await.unwrap().items.len(), 2);

    let deleted = deployments
        .delete("gone", &DeleteParams::foreground())
        .await
        .expect("delete Deployment");
    // Foreground: the owner stays, marked for deletion, until the garbage collector has removed
    // its dependents (unless it was already gone by the time the server answered).
    if let Some(d) = deleted.left() {
        assert!(d.metadata.deletion_timestamp.is_some());
        let finalizers = d.metadata.finalizers.unwrap_or_default();
        assert!(
            finalizers.iter().any(|f| f == "foregroundDeletion"),
            "finalizers: {finalizers:?}"
        );
    }

    wait_for("Deployment gone, with its ReplicaSets and pods", || async {
        let d = deployments
            .get_opt("gone")
            .await
            .map_err(|e| e.to_string())?;
        let rs = replicasets
            .list(&selector)
            .await
            .map_err(|e| e.to_string())?
            .items
            .len();
        let p = pods
            .list(&selector)
            .await
            .map_err(|e| e.to_string())?
            .items
            .len();
        if d.is_none() && rs == 0 && p == 0 {
            Ok(Some(()))
        } else {
            Err(format!(
                "deployment present: {}, replicasets: {rs}, pods: {p}",
                d.is_some()
            ))
        }
    })
    .await;

    ns.delete().await;
}

#[tokio::test]
#[ignore = "needs the local cluster (tests/run starts it)"]
async fn service_account_token_authenticates_and_rbac_limits_it() {
    let client = admin_client().await;
    let ns = TestNamespace::new(&client, "sa").await;

    let sas: Api<ServiceAccount> = ns.api();
    let sa: ServiceAccount =
        serde_json::from_value(json!({ "metadata": { "name": "deployer" } })).unwrap();
    sas.create(&PostParams::default(), &sa)
        .await
        .expect("create ServiceAccount");
    let roles: Api<Role> = ns.api();
    let role: Role = serde_json::from_value(json!({
        "metadata": { "name": "deployments-reader" },
        "rules": [{ "apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"] }]
    }))
    .unwrap();
    roles
        .create(&PostParams::default(), &role)
        .await
        .expect("create Role");
    let bindings: Api<RoleBinding> = ns.api();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": "deployer" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployments-reader" },
        "subjects": [{ "kind": "ServiceAccount", "name": "deployer", "namespace": ns.name }]
    }))
    .unwrap();
    bindings
        .create(&PostParams::default(), &binding)
        .await
        .expect("create RoleBinding");

    // TokenRequest, what `kubectl create token` does.
    let request = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(600),
            ..Default::default()
        },
        ..Default::default()
    };
    let token = sas
        .create_token_request("deployer", &PostParams::default(), &request)
        .await
        .expect("TokenRequest")
        .status
        .expect("token in status")
        .token;

    // A client with only that token: same server and CA as the admin kubeconfig.
    let admin = Kubeconfig::read_from(kubeconfig_path()).unwrap();
    let cluster = admin.clusters[0].cluster.clone().expect("cluster entry");
    let kubeconfig = Kubeconfig::from_yaml(
        &serde_json::to_string(&json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{ "name": "local", "cluster": {
                "server": cluster.server,
                "certificate-authority-data": cluster.certificate_authority_data,
            }}],
            "users": [{ "name": "deployer", "user": { "token": token } }],
            "contexts": [{ "name": "deployer", "context": { "cluster": "local", "user": "deployer" } }],
            "current-context": "deployer",
        }))
        .unwrap(),
    )
    .expect("token kubeconfig");
    let as_sa = client_from(kubeconfig).await;

    let deployments: Api<Deployment> = Api::namespaced(as_sa.clone(), &ns.name);
    wait_for(
        "RBAC to allow the ServiceAccount to list deployments",
        || async {
            match deployments.list(&ListParams::default()).await {
                Ok(list) => Ok(Some(list)),
                Err(e) => Err(e.to_string()),
            }
        },
    )
    .await;
    let status = api_error(
        deployments
            .create(&PostParams::default(), &deployment("nope", 1))
            .await,
        "create by a ServiceAccount that may only read",
    );
    assert_eq!(status.code, 403, "{status:?}");
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(as_sa, &ns.name);
    let status = api_error(
        secrets.list(&ListParams::default()).await,
        "list secrets as the ServiceAccount",
    );
    assert_eq!(status.code, 403, "{status:?}");
    assert!(
        status
            .message
            .contains(&format!("system:serviceaccount:{}:deployer", ns.name)),
        "{}",
        status.message
    );

    ns.delete().await;
}
