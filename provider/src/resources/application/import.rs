//! Import: an app read back from the cluster into state, by import ID or identity; also
//! what `terraform query` returns for each app it lists.

use super::{TYPE_NAME, identity, live_objects, plan};
use crate::app::application::bundle;
use crate::app::application::observe::{self, Live};
use crate::app::application::owner;
use crate::app::application::spec::{Input, Spec};
use crate::app::foreign_fields::Policy;
use crate::app::object::{Kind, Manifest};
use crate::kube::Cluster;
use crate::plugin::{
    AttrPath, Diagnostic, Diagnostics, ImportRequest, ImportResponse, ImportedResource, Value,
};
use crate::resources::cluster_error::diagnostic as kube_diag;
use crate::resources::objects::object_ref;

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

pub async fn import(
    cluster: &Cluster,
    req: &ImportRequest,
    defaults: &Input,
    policy: &Policy<'_>,
) -> ImportResponse {
    let imported = match import_target(req) {
        Ok((namespace, name)) => import_app(cluster, &namespace, &name, defaults, policy).await,
        Err(d) => Err(d.into()),
    };
    match imported {
        Ok(app) => ImportResponse {
            imported: vec![ImportedResource {
                type_name: TYPE_NAME.to_string(),
                state: app.state,
                private: Vec::new(),
                identity: Some(app.identity),
            }],
            diagnostics: app.warnings,
        },
        Err(diagnostics) => ImportResponse {
            diagnostics,
            ..ImportResponse::default()
        },
    }
}

/// An app read back from the cluster: the state import gives it (also what `terraform
/// query` shows with `include_resource`), and warnings about what the state cannot hold.
pub struct ImportedApp {
    pub state: Value,
    pub identity: Value,
    pub warnings: Diagnostics,
}

/// Import `namespace/name`: every object the app may have, under the names JKE gives
/// them, taken back into a spec over the provider's `defaults`. Any Deployment can be
/// imported, whoever made it: this is how an app made with kubectl or Helm is taken over.
pub async fn import_app(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    defaults: &Input,
    policy: &Policy<'_>,
) -> Result<ImportedApp, Diagnostics> {
    let (namespace, name) = (namespace.to_string(), name.to_string());
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
    let mut live = live_objects(cluster, &manifests)
        .await
        .map_err(|e| Diagnostics::from(kube_diag(&e, &format!("Importing {namespace}/{name}"))))?;
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
        return Err(Diagnostic::error(
            "Cannot import a missing app",
            format!("no Deployment {name:?} in namespace {namespace:?} at {}; check the import ID (\"namespace/name\")", cluster.host),
        )
        .into());
    };
    if live.objects.contains_key(&Kind::Secret) && spec.secret_env.is_none() {
        spec.secret_env_version = None;
    }
    let objects = bundle::render(&spec);
    // Drift at import already: it shows what JKE would change on a Deployment it did not
    // make (and marks it as such for the generated configuration).
    let drift = observe::drift(&objects, &live, policy);
    // Import adopts: the app keeps the mark its Deployment carries (shared with the
    // configuration that made it), or gets a new one on its next apply.
    let owner = live
        .objects
        .get(&Kind::Deployment)
        .and_then(owner::mark_of)
        .map(str::to_string);
    Ok(ImportedApp {
        state: plan::encode_state(&spec, &objects, &drift, owner.as_deref()),
        identity: identity(&spec),
        warnings: left_out_warnings(&spec, &live),
    })
}

/// One warning listing what the app's objects have that the resource cannot hold.
fn left_out_warnings(spec: &Spec, live: &Live) -> Diagnostics {
    let lines = observe::left_out(spec, live);
    if lines.is_empty() {
        return Diagnostics::new();
    }
    Diagnostic::warning(
        format!("{} has settings jke_application does not manage", spec.id()),
        format!(
            "Import leaves these out of the state, and the next apply removes them from the cluster: the app's objects become exactly what JKE renders (move what you need into the app's settings first, or leave this Deployment outside JKE):\n- {}",
            lines.join("\n- ")
        ),
    )
    .into()
}
