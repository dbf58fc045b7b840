//! `list "jke_application"` (`terraform query`): finds apps, those JKE made and Deployments
//! made with kubectl or Helm, in one namespace or every namespace the credentials may list.
//! Each result is the app's identity; with `include_resource` also the state import gives
//! it (the same [`super::import_app`]), which is what `-generate-config-out` writes from.

use super::{TYPE_NAME, import_app};
use crate::app::formats::{is_dns_label, is_label_value, is_qualified_name};
use crate::app::object::{LABEL_MANAGED_BY, MANAGED_BY};
use crate::kube::{KubeError, ResourceType};
use crate::plugin::{
    AttrPath, Attribute, Block, Diagnostic, Diagnostics, ListRequest, ListResult, ListSink, Schema,
    Type, ValidateListRequest, Value,
};
use crate::resources::cluster_error::diagnostic as kube_diag;
use crate::resources::list_resource::ListResource;
use crate::resources::resource::Connected;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Results fetched per request: the first ones stream while the rest are listed.
const PAGE: u32 = 100;

pub struct ApplicationList;

pub fn list_schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Finds apps for `terraform query`: those JKE manages and Deployments made otherwise (kubectl, Helm), to import them as `jke_application`.".into(),
            attributes: vec![
                Attribute::typed("namespace", Type::String, "Only apps in this namespace. Default: every namespace the provider's credentials may list.").optional(),
                Attribute::typed("labels", Type::map(Type::String), "Only Deployments carrying all of these labels, e.g. `{ team = \"shop\" }`.").optional(),
                Attribute::typed("managed", Type::Bool, "`true`: only apps JKE manages; `false`: only Deployments it does not manage (the ones to take over); unset: both.").optional(),
            ],
            deprecated: false,
        },
    }
}

/// What a list block asks for. Unknown values (at validation) count as unset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub managed: Option<bool>,
}

impl Filter {
    pub fn decode(config: &Value) -> Filter {
        Filter {
            namespace: config
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_string),
            labels: config
                .get("labels")
                .and_then(Value::entries)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            managed: match config.get("managed") {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            },
        }
    }

    pub fn problems(&self) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if let Some(ns) = &self.namespace
            && !is_dns_label(ns)
        {
            diags.error_at(
                AttrPath::attr("namespace"),
                "Invalid namespace",
                format!("config.namespace: {ns:?} is not a namespace name (lowercase letters, digits and '-', at most 63), e.g. \"shop\""),
            );
        }
        for (k, v) in &self.labels {
            let at = AttrPath::attr("labels").then_key(k);
            if !is_qualified_name(k) {
                diags.error_at(at, "Invalid label key", format!("config.labels: key {k:?} must be a name of at most 63 letters, digits, '-', '_' or '.', optionally prefixed by a DNS name and '/' (e.g. \"team\", \"example.com/tier\")"));
            } else if !is_label_value(v) {
                diags.error_at(at, "Invalid label value", format!("config.labels[{k:?}]: {v:?} must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"));
            }
        }
        diags
    }

    /// The label selector of the Deployments to list.
    pub fn selector(&self) -> String {
        let mut parts: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        match self.managed {
            Some(true) => parts.push(format!("{LABEL_MANAGED_BY}={MANAGED_BY}")),
            Some(false) => parts.push(format!("{LABEL_MANAGED_BY}!={MANAGED_BY}")),
            None => {}
        }
        parts.join(",")
    }
}

fn deployments() -> ResourceType {
    ResourceType::new("apps/v1", "Deployment", "deployments", true)
}

/// Whether JKE made this Deployment (it carries JKE's `managed-by` label).
pub fn managed_by_jke(deployment: &Json) -> bool {
    deployment["metadata"]["labels"][LABEL_MANAGED_BY] == MANAGED_BY
}

fn display_name(namespace: &str, name: &str, managed: bool) -> String {
    if managed {
        format!("{namespace}/{name}")
    } else {
        format!("{namespace}/{name} (not managed by JKE)")
    }
}

fn identity(namespace: &str, name: &str) -> Value {
    Value::Object(BTreeMap::from([
        ("namespace".to_string(), Value::string(namespace)),
        ("name".to_string(), Value::string(name)),
    ]))
}

/// The result for one Deployment; with `include` read back as import does.
async fn result(cx: &Connected<'_>, d: &Json, include: bool) -> Option<ListResult> {
    let namespace = d["metadata"]["namespace"].as_str()?;
    let name = d["metadata"]["name"].as_str()?;
    let mut r = ListResult {
        identity: Some(identity(namespace, name)),
        display_name: display_name(namespace, name, managed_by_jke(d)),
        ..ListResult::default()
    };
    if include {
        match import_app(
            cx.cluster,
            namespace,
            name,
            &cx.config.defaults,
            &cx.config.drift_policy(),
        )
        .await
        {
            Ok(app) => {
                r.resource = Some(app.state);
                r.diagnostics = app.warnings;
            }
            Err(diags) => return Some(ListResult::failed(diags)),
        }
    }
    Some(r)
}

/// Outcome of listing one scope.
enum Listed {
    Done,
    /// Terraform stopped reading: nothing more to send.
    Stopped,
}

/// List the Deployments of one namespace (or every namespace) page by page, sending each
/// app as soon as its page arrives.
async fn list_scope(
    cx: &Connected<'_>,
    namespace: Option<&str>,
    selector: &str,
    req: &ListRequest,
    sink: &ListSink,
) -> Result<Listed, KubeError> {
    let page = u32::try_from(req.limit)
        .ok()
        .filter(|l| *l > 0)
        .map_or(PAGE, |l| l.min(PAGE));
    let mut token: Option<String> = None;
    loop {
        let (items, next) = cx
            .cluster
            .list_page(&deployments(), namespace, selector, page, token.as_deref())
            .await?;
        for d in &items {
            if let Some(r) = result(cx, d, req.include_resource).await
                && sink.send(r).await.is_err()
            {
                return Ok(Listed::Stopped);
            }
        }
        match next {
            Some(t) => token = Some(t),
            None => return Ok(Listed::Done),
        }
    }
}

/// Every namespace when the credentials may not list Deployments cluster-wide: namespace
/// by namespace, skipping those they may not list, with a warning naming them.
async fn list_each_namespace(
    cx: &Connected<'_>,
    selector: &str,
    req: &ListRequest,
    sink: &ListSink,
) -> Result<(), Diagnostics> {
    let names = cx.cluster.namespace_names().await.map_err(|e| {
        Diagnostics::from(kube_diag(
            &e,
            "Listing apps in every namespace (the credentials may list Deployments only in some namespaces, and not the namespaces themselves; set config.namespace)",
        ))
    })?;
    let mut skipped = Vec::new();
    for ns in names {
        match list_scope(cx, Some(&ns), selector, req, sink).await {
            Ok(Listed::Done) => {}
            Ok(Listed::Stopped) => return Ok(()),
            Err(e) if e.is_forbidden() => skipped.push(ns),
            Err(e) => return Err(kube_diag(&e, &format!("Listing apps in namespace {ns}")).into()),
        }
    }
    if !skipped.is_empty() {
        let _ = sink
            .send(ListResult::failed(
                Diagnostic::warning(
                    "Some namespaces were not searched",
                    format!(
                        "The provider's credentials may not list Deployments in: {}.",
                        skipped.join(", ")
                    ),
                )
                .into(),
            ))
            .await;
    }
    Ok(())
}

#[tonic::async_trait]
impl ListResource for ApplicationList {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> Schema {
        list_schema()
    }
    fn validate(&self, req: &ValidateListRequest) -> Diagnostics {
        let mut diags = Filter::decode(&req.config).problems();
        if let Some(l) = req.limit
            && l < 0
        {
            diags.error(
                "Invalid limit",
                format!("limit: {l} is negative; give the largest number of apps to list, e.g. 20"),
            );
        }
        diags
    }
    async fn list(&self, cx: &Connected<'_>, req: &ListRequest, sink: &ListSink) {
        let filter = Filter::decode(&req.config);
        let problems = filter.problems();
        if problems.has_errors() {
            let _ = sink.send(ListResult::failed(problems)).await;
            return;
        }
        let selector = filter.selector();
        let scope = filter.namespace.as_deref();
        let failed = match list_scope(cx, scope, &selector, req, sink).await {
            Ok(_) => None,
            Err(e) if e.is_forbidden() && scope.is_none() => {
                list_each_namespace(cx, &selector, req, sink).await.err()
            }
            Err(e) => {
                let whr = scope.map_or("every namespace".to_string(), |n| format!("namespace {n}"));
                Some(kube_diag(&e, &format!("Listing apps in {whr}")).into())
            }
        };
        if let Some(d) = failed {
            let _ = sink.send(ListResult::failed(d)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(namespace: Value, labels: Value, managed: Value) -> Value {
        Value::Object(BTreeMap::from([
            ("namespace".to_string(), namespace),
            ("labels".to_string(), labels),
            ("managed".to_string(), managed),
        ]))
    }

    fn labels(pairs: &[(&str, &str)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), Value::string(*v)))
                .collect(),
        )
    }

    #[test]
    fn filters_become_one_label_selector() {
        let all = Filter::decode(&Value::Null);
        assert_eq!(all, Filter::default());
        assert_eq!(all.selector(), "");
        let f = Filter::decode(&config(
            Value::string("shop"),
            labels(&[("team", "checkout"), ("tier", "web")]),
            Value::Bool(true),
        ));
        assert_eq!(f.namespace.as_deref(), Some("shop"));
        assert_eq!(
            f.selector(),
            "team=checkout,tier=web,app.kubernetes.io/managed-by=jke"
        );
        let foreign = Filter::decode(&config(Value::Null, Value::Null, Value::Bool(false)));
        // `!=` also matches Deployments without the label at all.
        assert_eq!(foreign.selector(), "app.kubernetes.io/managed-by!=jke");
        // Unknown at validation: not a filter (yet), not an error.
        let unknown = Filter::decode(&config(Value::Unknown, Value::Unknown, Value::Unknown));
        assert_eq!(unknown, Filter::default());
    }

    #[test]
    fn bad_filters_name_the_attribute() {
        let f = Filter::decode(&config(
            Value::string("Shop"),
            labels(&[("team", "a,b")]),
            Value::Null,
        ));
        let d = format!("{:?}", f.problems());
        assert!(d.contains("config.namespace: \\\"Shop\\\""), "{d}");
        assert!(d.contains("config.labels[\\\"team\\\"]"), "{d}");
        let bad_limit = ApplicationList.validate(&ValidateListRequest {
            type_name: TYPE_NAME.into(),
            config: Value::Null,
            include_resource: None,
            limit: Some(-1),
        });
        assert!(bad_limit.has_errors());
    }

    #[test]
    fn jke_apps_are_told_apart_by_their_label() {
        let jke =
            serde_json::json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "jke"}}});
        let helm =
            serde_json::json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm"}}});
        assert!(managed_by_jke(&jke));
        assert!(!managed_by_jke(&helm));
        assert!(!managed_by_jke(&serde_json::json!({"metadata": {}})));
        assert_eq!(display_name("shop", "web", true), "shop/web");
        assert_eq!(
            display_name("shop", "old", false),
            "shop/old (not managed by JKE)"
        );
    }
}
