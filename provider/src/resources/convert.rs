//! Between Terraform values and the serde models of `app` (which know nothing of Terraform).
//!
//! Unknown values have no place in a typed model: [`to_json`] records their paths and puts
//! a zero value there, so the model can still be resolved and validated; the caller then
//! drops problems about those paths and marks them unknown again in the plan.

use crate::app::report::{FieldPath, Invalid, Seg};
use crate::plugin::{AttrPath, Diagnostic, Diagnostics, Number, PathStep, Schema, Type, Value};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// Terraform value -> JSON for serde, collecting the paths of unknown values.
pub fn to_json(v: &Value, ty: &Type, at: &AttrPath, unknowns: &mut Vec<AttrPath>) -> Json {
    match v {
        Value::Unknown => {
            unknowns.push(at.clone());
            zero(ty)
        }
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        // A whole number sent as a float (`3.0`) decodes as the integer it is.
        Value::Number(n) => match n.as_i64() {
            Some(i) => Json::from(i),
            None => serde_json::Number::from_f64(n.as_f64())
                .map(Json::Number)
                .unwrap_or(Json::Null),
        },
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            let elem = |i: usize| match ty {
                Type::List(t) | Type::Set(t) => (**t).clone(),
                Type::Tuple(ts) => ts.get(i).cloned().unwrap_or(Type::Dynamic),
                _ => Type::Dynamic,
            };
            Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| to_json(x, &elem(i), &at.then_index(i), unknowns))
                    .collect(),
            )
        }
        Value::Map(m) => {
            let elem = match ty {
                Type::Map(t) => (**t).clone(),
                _ => Type::Dynamic,
            };
            Json::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), to_json(x, &elem, &at.then_key(k), unknowns)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Object(m) => Json::Object(
            m.iter()
                .map(|(k, x)| {
                    let t = match ty {
                        Type::Object(attrs) => attrs.get(k).cloned().unwrap_or(Type::Dynamic),
                        _ => Type::Dynamic,
                    };
                    (k.clone(), to_json(x, &t, &at.then_attr(k), unknowns))
                })
                .collect::<Map<_, _>>(),
        ),
    }
}

/// Placeholder for an unknown value: primitives get a zero so maps and lists still decode;
/// whole objects and collections become absent so defaults apply.
fn zero(ty: &Type) -> Json {
    match ty {
        Type::String => Json::String(String::new()),
        Type::Number => Json::from(0),
        Type::Bool => Json::Bool(false),
        _ => Json::Null,
    }
}

/// JSON from a serde model -> Terraform value of type `ty` (absent attributes become null).
pub fn from_json(j: &Json, ty: &Type) -> Value {
    match (ty, j) {
        (_, Json::Null) => Value::Null,
        (Type::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Type::Number, Json::Number(n)) => match n.as_i64() {
            Some(i) => Value::Number(Number::Int(i)),
            None => Value::Number(Number::Float(n.as_f64().unwrap_or_default())),
        },
        (Type::String, Json::String(s)) => Value::String(s.clone()),
        (Type::String, Json::Number(n)) => Value::String(n.to_string()),
        (Type::String, Json::Bool(b)) => Value::String(b.to_string()),
        (Type::List(t), Json::Array(a)) => Value::List(a.iter().map(|x| from_json(x, t)).collect()),
        (Type::Set(t), Json::Array(a)) => Value::Set(a.iter().map(|x| from_json(x, t)).collect()),
        (Type::Map(t), Json::Object(o)) => Value::Map(
            o.iter()
                .map(|(k, x)| (k.clone(), from_json(x, t)))
                .collect(),
        ),
        (Type::Object(attrs), Json::Object(o)) => Value::Object(
            attrs
                .iter()
                .map(|(k, t)| {
                    (
                        k.clone(),
                        o.get(k).map(|x| from_json(x, t)).unwrap_or(Value::Null),
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        ),
        // A type mismatch cannot come from our own models; null is the safe answer.
        _ => Value::Null,
    }
}

/// Replace the value at `path` (if it exists) with `new`.
pub fn set_at(v: &mut Value, path: &[PathStep], new: Value) {
    let Some((first, rest)) = path.split_first() else {
        *v = new;
        return;
    };
    let child = match (v, first) {
        (Value::Object(m), PathStep::Attr(a)) => m.get_mut(a),
        (Value::Map(m), PathStep::Key(k)) => m.get_mut(k),
        (Value::List(l) | Value::Set(l) | Value::Tuple(l), PathStep::Index(i)) => {
            usize::try_from(*i).ok().and_then(|i| l.get_mut(i))
        }
        _ => None,
    };
    if let Some(c) = child {
        set_at(c, rest, new);
    }
}

/// An app field path as a Terraform attribute path.
pub fn attr_path(p: &FieldPath) -> AttrPath {
    AttrPath(
        p.iter()
            .map(|s| match s {
                Seg::Attr(a) => PathStep::Attr(a.clone()),
                Seg::Key(k) => PathStep::Key(k.clone()),
                Seg::Index(i) => PathStep::Index(*i as i64),
            })
            .collect(),
    )
}

/// Numbers in `v` that are not whole (or too large to be exact), with their paths. Every
/// number attribute of this provider is a count, a port, an ID or seconds, so a fraction is
/// a mistake to name at its attribute rather than a decoding failure.
pub fn fractional_numbers(v: &Value, at: &AttrPath, out: &mut Vec<(AttrPath, Number)>) {
    match v {
        Value::Number(n) if n.as_i64().is_none() => out.push((at.clone(), *n)),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            for (i, x) in items.iter().enumerate() {
                fractional_numbers(x, &at.then_index(i), out);
            }
        }
        Value::Map(m) => {
            for (k, x) in m {
                fractional_numbers(x, &at.then_key(k), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                fractional_numbers(x, &at.then_attr(k), out);
            }
        }
        _ => {}
    }
}

/// One error per number of `v` that is not whole, each at its attribute.
pub fn whole_number_errors(v: &Value, at: &AttrPath) -> Diagnostics {
    let mut found = Vec::new();
    fractional_numbers(v, at, &mut found);
    let mut diags = Diagnostics::new();
    for (path, n) in found {
        let shown = path.to_string();
        let hint = n.as_f64().trunc();
        diags.error_at(
            path,
            "Not a whole number",
            format!("{shown} = {n} must be a whole number (e.g. {hint})"),
        );
    }
    diags
}

/// A configuration (or state) decoded into a serde model, with the paths whose values are
/// unknown.
pub struct Decoded<I> {
    pub input: I,
    pub unknowns: Vec<AttrPath>,
}

/// Top-level attributes only the provider sets (`id`, `objects`, `drift`, ...): part of the
/// state, never of the input model, which rejects fields it does not know.
pub fn computed_only(schema: &Schema) -> Vec<String> {
    schema
        .block
        .attributes
        .iter()
        .filter(|a| a.computed && !a.optional && !a.required)
        .map(|a| a.name.clone())
        .collect()
}

/// `json` without the attributes named in `skip`.
pub fn without(mut json: Json, skip: &[String]) -> Json {
    if let Some(o) = json.as_object_mut() {
        for k in skip {
            o.remove(k);
        }
    }
    json
}

/// Decode `v` of type `ty` into the model `I`, leaving out the computed-only attributes
/// `skip`; `what` names the resource in the error.
pub fn decode<I: DeserializeOwned>(
    v: &Value,
    ty: &Type,
    skip: &[String],
    what: &str,
) -> Result<Decoded<I>, Diagnostics> {
    let fractions = whole_number_errors(v, &AttrPath::root());
    if fractions.has_errors() {
        return Err(fractions);
    }
    let mut unknowns = Vec::new();
    let json = without(to_json(v, ty, &AttrPath::root(), &mut unknowns), skip);
    match serde_json::from_value::<I>(json) {
        Ok(input) => Ok(Decoded { input, unknowns }),
        Err(e) => Err(Diagnostic::error(
            "Unexpected configuration shape",
            format!("the provider could not read this {what} configuration: {e}"),
        )
        .into()),
    }
}

impl<I> Decoded<I> {
    /// Whether any value at or inside (or around) these paths is unknown.
    pub fn touches_unknown(&self, paths: &[AttrPath]) -> bool {
        paths
            .iter()
            .any(|d| self.unknowns.iter().any(|u| overlaps(u, d)))
    }

    /// Validation problems as diagnostics, leaving out those that involve unknown values.
    pub fn diagnostics(&self, problems: impl IntoIterator<Item = Invalid>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        for p in problems {
            let deps: Vec<AttrPath> = p.depends_on.iter().map(attr_path).collect();
            if !self.touches_unknown(&deps) {
                diags.error_at(attr_path(&p.path), p.summary, p.detail);
            }
        }
        diags
    }
}

/// A map of strings from an attribute of `state` (e.g. the computed `drift`).
pub fn string_map(state: &Value, attr: &str) -> BTreeMap<String, String> {
    state
        .get(attr)
        .and_then(Value::entries)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// True when one path is a prefix of the other (a value inside, or around, the other).
pub fn overlaps(a: &AttrPath, b: &AttrPath) -> bool {
    let n = a.0.len().min(b.0.len());
    a.0[..n] == b.0[..n]
}

/// Test support: the schema of a resource and the serde model it decodes into must name the
/// same attributes at every level, so an attribute the decoder silently drops (or a model
/// field no attribute sets) fails a test.
#[cfg(test)]
pub(crate) fn assert_schema_matches_model<I>(ty: &Type, skip: &[String], what: &str)
where
    I: DeserializeOwned + serde::Serialize,
{
    /// A value for every attribute at every level.
    fn sample(ty: &Type) -> Json {
        match ty {
            Type::String => Json::from("x"),
            Type::Number => Json::from(1),
            Type::Bool => Json::Bool(true),
            Type::List(t) | Type::Set(t) => Json::Array(vec![sample(t)]),
            Type::Map(t) => Json::Object(Map::from_iter([("k".to_string(), sample(t))])),
            Type::Object(attrs) => {
                Json::Object(attrs.iter().map(|(k, t)| (k.clone(), sample(t))).collect())
            }
            _ => Json::Null,
        }
    }
    /// Paths of object keys in `a` that `b` lacks (maps' keys are data, not fields).
    fn missing(a: &Json, b: &Json, ty: &Type, at: &str, out: &mut Vec<String>) {
        match (a, b, ty) {
            (Json::Object(x), Json::Object(y), Type::Object(attrs)) => {
                for (k, v) in x {
                    let path = format!("{at}{k}");
                    match (y.get(k), attrs.get(k)) {
                        (Some(w), Some(t)) => missing(v, w, t, &format!("{path}."), out),
                        (None, _) | (_, None) => out.push(path),
                    }
                }
            }
            (Json::Array(x), Json::Array(y), Type::List(t) | Type::Set(t)) => {
                if let (Some(v), Some(w)) = (x.first(), y.first()) {
                    missing(v, w, t, at, out);
                }
            }
            _ => {}
        }
    }
    let full = without(sample(ty), skip);
    let value = from_json(&full, ty);
    let decoded = match decode::<I>(&value, ty, skip, what) {
        Ok(d) => d,
        Err(d) => panic!("{what}: a schema attribute the model does not know: {d:?}"),
    };
    let back = serde_json::to_value(&decoded.input).unwrap_or_default();
    let mut dropped = Vec::new();
    missing(&full, &back, ty, "", &mut dropped);
    assert!(
        dropped.is_empty(),
        "{what}: attributes the model drops: {dropped:?}"
    );
    // Every model field (serialised even when unset) is an attribute of the schema.
    let mut extra = Vec::new();
    missing(&back, &full, ty, "", &mut extra);
    assert!(
        extra.is_empty(),
        "{what}: model fields no attribute sets: {extra:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fraction_where_a_whole_number_is_expected_names_the_attribute() {
        let ty = Type::object([
            ("replicas", Type::Number),
            ("quota", Type::object([("pods", Type::Number)])),
        ]);
        let v = Value::Object(BTreeMap::from([
            ("replicas".to_string(), Value::Number(Number::Float(1.5))),
            (
                "quota".to_string(),
                Value::Object(BTreeMap::from([(
                    "pods".to_string(),
                    Value::Number(Number::Float(2.5)),
                )])),
            ),
        ]));
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct M {
            replicas: Option<i64>,
            quota: Option<serde_json::Value>,
        }
        let err = match decode::<M>(&v, &ty, &[], "test") {
            Err(d) => d,
            Ok(_) => panic!("a fraction decoded as a whole number"),
        };
        let details: Vec<String> = err.0.iter().map(|d| d.detail.clone()).collect();
        assert_eq!(
            details,
            vec![
                "quota.pods = 2.5 must be a whole number (e.g. 2)",
                "replicas = 1.5 must be a whole number (e.g. 1)"
            ]
        );
        // A whole number sent as a float is still whole.
        let v = Value::Object(BTreeMap::from([(
            "replicas".to_string(),
            Value::Number(Number::Float(3.0)),
        )]));
        assert!(decode::<M>(&v, &ty, &[], "test").is_ok_and(|d| d.input.replicas == Some(3)));
    }

    #[test]
    fn unknowns_are_recorded_with_their_paths_and_replaced_by_zero() {
        let ty = Type::object([("image", Type::String), ("env", Type::map(Type::String))]);
        let v = Value::Object(BTreeMap::from([
            ("image".to_string(), Value::Unknown),
            (
                "env".to_string(),
                Value::Map(BTreeMap::from([("DB".to_string(), Value::Unknown)])),
            ),
        ]));
        let mut unknowns = Vec::new();
        let j = to_json(&v, &ty, &AttrPath::root(), &mut unknowns);
        assert_eq!(j, serde_json::json!({"image": "", "env": {"DB": ""}}));
        assert_eq!(
            unknowns,
            vec![
                AttrPath::attr("env").then_key("DB"),
                AttrPath::attr("image")
            ]
        );
        assert_eq!(
            from_json(&j, &ty),
            Value::Object(BTreeMap::from([
                ("image".to_string(), Value::string("")),
                (
                    "env".to_string(),
                    Value::Map(BTreeMap::from([("DB".to_string(), Value::string(""))]))
                ),
            ]))
        );
    }
}
