//! Terraform values of `jke_cluster` <-> the platform model, and planning without a cluster.

use super::schema::resource_schema;
use crate::app::application::spec::Input as AppInput;
use crate::app::application::spec::defaults::SECURITY_PROFILE as DEFAULT_PROFILE;
use crate::app::cluster::spec::{Input, Spec};
use crate::app::cluster::{bundle, validate};
use crate::app::object::Manifest;
use crate::plugin::{AttrPath, Diagnostics, PathStep, Type, Value};
use crate::resources::convert;
use std::collections::BTreeMap;

/// The resource's value type, built once: every plan and read converts through it.
pub fn resource_type() -> &'static Type {
    static TYPE: std::sync::OnceLock<Type> = std::sync::OnceLock::new();
    TYPE.get_or_init(|| resource_schema().block.value_type())
}

/// The attributes only the provider sets, left out when decoding into the input.
pub fn computed_only() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| convert::computed_only(&resource_schema()))
}

pub type Decoded = convert::Decoded<Input>;

pub fn decode_input(config: &Value) -> Result<Decoded, Diagnostics> {
    convert::decode(config, resource_type(), computed_only(), "jke_cluster")
}

/// Problems with the configuration, leaving out those that involve unknown values.
pub fn problems(decoded: &Decoded, spec: &Spec) -> Diagnostics {
    decoded.diagnostics(validate::validate(spec))
}

/// The state value of a spec: every setting plus the computed attributes. `objects` is what
/// `spec` renders (the caller has rendered it already).
pub fn encode_state(spec: &Spec, objects: &[Manifest], drift: &BTreeMap<String, String>) -> Value {
    let mut json = serde_json::to_value(spec).unwrap_or_default();
    if let Some(obj) = json.as_object_mut() {
        obj.insert("id".into(), spec.id().into());
        obj.insert("default_issuer".into(), spec.default_issuer().into());
        let keys: Vec<String> = objects.iter().map(Manifest::qualified_key).collect();
        obj.insert("objects".into(), keys.into());
        obj.insert(
            "drift".into(),
            serde_json::to_value(drift).unwrap_or_default(),
        );
    }
    convert::from_json(&json, resource_type())
}

/// Back from state (or a planned state at apply time, where everything is known).
pub fn decode_state(state: &Value) -> Result<(Spec, BTreeMap<String, String>), Diagnostics> {
    let decoded = decode_input(state)?;
    // Every setting is in state: the profile only fills what is missing, and nothing is.
    let spec = Spec::resolve(&decoded.input, DEFAULT_PROFILE);
    let drift = convert::string_map(state, "drift");
    Ok((spec, drift))
}

fn attr(a: &str) -> PathStep {
    PathStep::Attr(a.to_string())
}

/// An unknown at `p` changes which objects exist (not only what is inside them).
fn changes_objects(p: &AttrPath) -> bool {
    match p.0.as_slice() {
        [PathStep::Attr(a)] => a == "issuers" || a == "namespaces",
        [PathStep::Attr(a), _] => a == "issuers" || a == "namespaces",
        [PathStep::Attr(a), PathStep::Index(_), PathStep::Attr(b)] => a == "issuers" && b == "name",
        [PathStep::Attr(a), PathStep::Key(_), PathStep::Attr(b)] => {
            a == "namespaces"
                && matches!(b.as_str(), "limit_range" | "quota" | "default_deny_ingress")
        }
        _ => false,
    }
}

/// The Pod Security level app namespaces enforce unless they say otherwise: the profile the
/// platform gives its apps (`defaults.security.profile` in the provider block).
pub fn platform_profile(app_defaults: &AppInput) -> String {
    app_defaults
        .security
        .as_ref()
        .and_then(|s| s.profile.clone())
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string())
}

/// The planned state for `config`: defaults filled in, unknowns kept unknown, and the
/// computed attributes that depend on unknowns unknown too. Needs no cluster.
pub fn planned_state(
    config: &Value,
    profile: &str,
) -> Result<(Spec, Value, Diagnostics), Diagnostics> {
    let decoded = decode_input(config)?;
    let spec = Spec::resolve(&decoded.input, profile);
    let diags = problems(&decoded, &spec);
    let mut planned = encode_state(&spec, &bundle::render(&spec), &BTreeMap::new());
    for u in &decoded.unknowns {
        convert::set_at(&mut planned, &u.0, Value::Unknown);
    }
    if decoded.touches_unknown(&[AttrPath::attr("environment")]) {
        convert::set_at(&mut planned, &[attr("id")], Value::Unknown);
    }
    let first_name = AttrPath::attr("issuers").then_index(0).then_attr("name");
    if decoded.touches_unknown(&[first_name]) {
        convert::set_at(&mut planned, &[attr("default_issuer")], Value::Unknown);
    }
    if decoded.unknowns.iter().any(changes_objects) {
        convert::set_at(&mut planned, &[attr("objects")], Value::Unknown);
    }
    Ok((spec, planned, diags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_and_input_name_the_same_attributes() {
        convert::assert_schema_matches_model::<Input>(resource_type(), computed_only(), "resource");
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        )
    }

    /// A full config value (every attribute present, null when not set).
    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut m: BTreeMap<String, Value> =
            match convert::from_json(&serde_json::json!({}), resource_type()) {
                Value::Object(m) => m,
                _ => BTreeMap::new(),
            };
        for (k, v) in pairs {
            m.insert((*k).to_string(), v.clone());
        }
        Value::Object(m)
    }

    fn issuer(name: Value) -> Value {
        obj(&[
            ("name", name),
            ("email", Value::string("platform@example.com")),
            ("server", Value::Null),
            ("http01_ingress_class", Value::string("nginx")),
            ("dns01_route53", Value::Null),
        ])
    }

    fn plan(c: &Value) -> (Value, Diagnostics) {
        let (_, planned, diags) = planned_state(c, DEFAULT_PROFILE)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        (planned, diags)
    }

    #[test]
    fn plans_defaults_and_known_computed_values() {
        let c = config(&[
            ("environment", Value::string("dev")),
            (
                "issuers",
                Value::List(vec![issuer(Value::string("letsencrypt"))]),
            ),
        ]);
        let (planned, diags) = plan(&c);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(planned.get("id"), Some(&Value::string("dev")));
        assert_eq!(
            planned.get("default_issuer"),
            Some(&Value::string("letsencrypt"))
        );
        assert_eq!(planned.get("crd_wait_timeout"), Some(&Value::string("5m")));
        assert_eq!(planned.get("namespaces"), Some(&Value::Null));
        assert_eq!(planned.get("drift"), Some(&Value::Map(BTreeMap::new())));
        let server = planned
            .get("issuers")
            .and_then(Value::elements)
            .and_then(|l| l.first())
            .and_then(|i| i.get("server"));
        assert_eq!(
            server,
            Some(&Value::string(
                crate::app::cluster::spec::defaults::ACME_SERVER
            ))
        );
        assert_eq!(
            planned.get("objects"),
            Some(&Value::List(vec![
                Value::string("ConfigMap/kube-system/jke-environment"),
                Value::string("ClusterIssuer/letsencrypt"),
            ]))
        );
        // The state round-trips to the same spec and value.
        let (spec, drift) = decode_state(&planned)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(encode_state(&spec, &bundle::render(&spec), &drift), planned);
    }

    #[test]
    fn unknowns_stay_unknown_and_are_not_errors() {
        let c = config(&[
            ("environment", Value::Unknown),
            ("issuers", Value::List(vec![issuer(Value::Unknown)])),
            (
                "namespaces",
                Value::Map(BTreeMap::from([(
                    "shop".to_string(),
                    obj(&[
                        ("labels", Value::Null),
                        ("limit_range", Value::Null),
                        (
                            "quota",
                            obj(&[
                                ("cpu", Value::Unknown),
                                ("memory", Value::Null),
                                ("pods", Value::Null),
                            ]),
                        ),
                    ]),
                )])),
            ),
        ]);
        let (planned, diags) = plan(&c);
        assert!(diags.is_empty(), "{diags:?}");
        for a in ["environment", "id", "default_issuer", "objects"] {
            assert_eq!(planned.get(a), Some(&Value::Unknown), "{a}");
        }
        let quota = planned
            .get("namespaces")
            .and_then(|n| n.get("shop"))
            .and_then(|s| s.get("quota"));
        assert_eq!(quota.and_then(|q| q.get("cpu")), Some(&Value::Unknown));
        assert_eq!(quota.and_then(|q| q.get("memory")), Some(&Value::Null));
    }

    #[test]
    fn an_unknown_quota_value_keeps_the_object_list_known() {
        let ns = obj(&[
            ("labels", Value::Null),
            ("limit_range", Value::Null),
            (
                "quota",
                obj(&[
                    ("cpu", Value::Unknown),
                    ("memory", Value::Null),
                    ("pods", Value::Null),
                ]),
            ),
        ]);
        let c = config(&[
            ("environment", Value::string("dev")),
            (
                "namespaces",
                Value::Map(BTreeMap::from([("shop".to_string(), ns)])),
            ),
        ]);
        let (planned, diags) = plan(&c);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            planned.get("objects"),
            Some(&Value::List(vec![
                Value::string("Namespace/shop"),
                Value::string("ResourceQuota/shop/jke-quota"),
                Value::string("NetworkPolicy/shop/jke-default-deny"),
                Value::string("ConfigMap/kube-system/jke-environment"),
            ]))
        );
    }

    #[test]
    fn a_wholly_unknown_issuer_list_plans() {
        let c = config(&[
            ("environment", Value::string("dev")),
            ("issuers", Value::Unknown),
        ]);
        let (planned, diags) = plan(&c);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(planned.get("issuers"), Some(&Value::Unknown));
        assert_eq!(planned.get("default_issuer"), Some(&Value::Unknown));
        assert_eq!(planned.get("objects"), Some(&Value::Unknown));
        assert_eq!(planned.get("id"), Some(&Value::string("dev")));
    }

    #[test]
    fn problems_carry_attribute_paths() {
        let c = config(&[
            ("environment", Value::string("Prod")),
            (
                "issuers",
                Value::List(vec![issuer(Value::string("Bad Name"))]),
            ),
        ]);
        let (_, diags) = plan(&c);
        let paths: Vec<String> = diags
            .0
            .iter()
            .filter_map(|d| d.path.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, ["environment", "issuers[0].name"], "{diags:?}");
    }
}
