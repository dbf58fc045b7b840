//! Terraform values of `jke_application` <-> the app model, and planning without a cluster.

use super::schema::{CONTENT_ONLY, REPLACE_ON_CHANGE, resource_schema};
use crate::app::application::bundle;
use crate::app::application::spec::{Input, Spec};
use crate::app::application::validate;
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
    convert::decode(config, resource_type(), computed_only(), "jke_application")
}

/// Problems with the configuration, leaving out those that involve unknown values.
pub fn problems(decoded: &Decoded, spec: &Spec) -> Diagnostics {
    decoded.diagnostics(
        validate::validate_input(&decoded.input)
            .into_iter()
            .chain(validate::validate(spec)),
    )
}

/// The state value of a spec: every setting plus the computed attributes.
/// `objects` is what `spec` renders (the caller has rendered it already); `owner` is the
/// app's owner mark (`owner_id`), None before the app has one.
pub fn encode_state(
    spec: &Spec,
    objects: &[Manifest],
    drift: &BTreeMap<String, String>,
    owner: Option<&str>,
) -> Value {
    let mut json = serde_json::to_value(spec).unwrap_or_default();
    if let Some(obj) = json.as_object_mut() {
        obj.insert("owner_id".into(), owner.into());
        obj.insert("id".into(), spec.id().into());
        let objects: Vec<String> = objects.iter().map(Manifest::key).collect();
        obj.insert("objects".into(), objects.into());
        obj.insert("service_host".into(), spec.service_host().into());
        obj.insert("url".into(), spec.url().into());
        obj.insert(
            "drift".into(),
            serde_json::to_value(drift).unwrap_or_default(),
        );
    }
    convert::from_json(&json, resource_type())
}

/// The owner mark recorded in a state (None: an app from before owner marks, or imported
/// without one).
pub fn owner_of(state: &Value) -> Option<String> {
    state
        .get("owner_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Back from state: every setting is present, so resolving against no defaults is exact.
pub fn decode_state(state: &Value) -> Result<(Spec, BTreeMap<String, String>), Diagnostics> {
    let decoded = decode_input(state)?;
    let spec = Spec::resolve(&decoded.input, &Input::default());
    let drift = convert::string_map(state, "drift");
    Ok((spec, drift))
}

fn first_attr(p: &AttrPath) -> Option<&str> {
    match p.0.first() {
        Some(PathStep::Attr(a)) => Some(a.as_str()),
        _ => None,
    }
}

/// The planned state for `config`: defaults filled in, unknowns kept unknown, and the
/// computed attributes that depend on unknowns unknown too.
pub fn planned_state(
    config: &Value,
    defaults: &Input,
    defaults_unknown: bool,
) -> Result<(Spec, Value, Diagnostics), Diagnostics> {
    let decoded = decode_input(config)?;
    let spec = Spec::resolve(&decoded.input, defaults);
    let diags = problems(&decoded, &spec);
    // The owner mark is made at create (and kept by `plan` from the prior state).
    let mut planned = encode_state(&spec, &bundle::render(&spec), &BTreeMap::new(), None);
    convert::set_at(
        &mut planned,
        &[PathStep::Attr("owner_id".into())],
        Value::Unknown,
    );
    for u in &decoded.unknowns {
        convert::set_at(&mut planned, &u.0, Value::Unknown);
    }
    let touched = |attrs: &[&str]| {
        decoded
            .unknowns
            .iter()
            .any(|u| first_attr(u).is_some_and(|a| attrs.contains(&a)))
    };
    if touched(&["name", "namespace"]) {
        for a in ["id", "service_host", "url", "objects"] {
            convert::set_at(&mut planned, &[PathStep::Attr(a.into())], Value::Unknown);
        }
    }
    if touched(&["port", "ports"]) {
        convert::set_at(
            &mut planned,
            &[PathStep::Attr("service_host".into())],
            Value::Unknown,
        );
        if decoded.input.port.is_some() {
            convert::set_at(
                &mut planned,
                &[PathStep::Attr("ports".into())],
                Value::Unknown,
            );
        }
    }
    if touched(&["ingress"]) {
        convert::set_at(
            &mut planned,
            &[PathStep::Attr("url".into())],
            Value::Unknown,
        );
    }
    if decoded
        .unknowns
        .iter()
        .any(|u| first_attr(u).is_some_and(|a| !CONTENT_ONLY.contains(&a)) && !is_secret_value(u))
    {
        convert::set_at(
            &mut planned,
            &[PathStep::Attr("objects".into())],
            Value::Unknown,
        );
    }
    if defaults_unknown {
        // Settings left to unknown provider defaults are unknown too.
        mark_unset_settings_unknown(config, &mut planned);
    }
    Ok((spec, planned, diags))
}

/// `secret_env["KEY"]` with an unknown value does not change which objects exist.
fn is_secret_value(p: &AttrPath) -> bool {
    matches!(p.0.as_slice(), [PathStep::Attr(a), PathStep::Key(_)] if a == "secret_env" || a == "env")
}

fn mark_unset_settings_unknown(config: &Value, planned: &mut Value) {
    let schema = resource_schema();
    for a in &schema.block.attributes {
        let set = config.get(&a.name).is_some_and(|v| !v.is_null());
        if a.optional
            && a.computed
            && !set
            && !REPLACE_ON_CHANGE.contains(&a.name.as_str())
            && a.name != "ports"
        {
            convert::set_at(planned, &[PathStep::Attr(a.name.clone())], Value::Unknown);
        }
    }
}

/// Attribute paths whose change replaces the app.
pub fn requires_replace(prior: &Value, planned: &Value) -> Vec<AttrPath> {
    if prior.is_null() {
        return Vec::new();
    }
    REPLACE_ON_CHANGE
        .iter()
        .filter(|a| prior.get(a) != planned.get(a))
        .map(|a| AttrPath::attr(a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_and_input_name_the_same_attributes() {
        convert::assert_schema_matches_model::<Input>(resource_type(), computed_only(), "resource");
    }

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

    #[test]
    fn a_new_app_plans_with_defaults_and_known_computed_values() {
        let c = config(&[
            ("name", Value::string("web")),
            ("image", Value::string("nginx")),
            ("port", Value::int(80)),
        ]);
        let (_, planned, diags) = planned_state(&c, &Input::default(), false)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(planned.get("id"), Some(&Value::string("default/web")));
        assert_eq!(planned.get("cpu"), Some(&Value::string("1")));
        assert_eq!(
            planned.get("autoscale").and_then(|a| a.get("max_replicas")),
            Some(&Value::int(10))
        );
        assert_eq!(planned.get("drift"), Some(&Value::Map(BTreeMap::new())));
        assert_eq!(planned.get("secret_env_wo"), Some(&Value::Null));
    }

    #[test]
    fn unknown_image_stays_unknown_and_is_not_an_error() {
        let c = config(&[
            ("name", Value::string("web")),
            ("image", Value::Unknown),
            ("port", Value::int(80)),
        ]);
        let (_, planned, diags) = planned_state(&c, &Input::default(), false)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(planned.get("image"), Some(&Value::Unknown));
        assert_eq!(planned.get("id"), Some(&Value::string("default/web")));
    }

    #[test]
    fn state_round_trips_to_the_same_spec() {
        let c = config(&[
            ("name", Value::string("web")),
            ("image", Value::string("nginx")),
            ("port", Value::int(80)),
            ("replicas", Value::int(3)),
        ]);
        let (spec, planned, _) = planned_state(&c, &Input::default(), false)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        let (back, drift) = decode_state(&planned)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, spec);
        assert!(drift.is_empty());
        let mut again = encode_state(&back, &bundle::render(&back), &drift, None);
        convert::set_at(
            &mut again,
            &[PathStep::Attr("owner_id".into())],
            Value::Unknown,
        );
        assert_eq!(again, planned);
    }
}
