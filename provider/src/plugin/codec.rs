//! The value codec: Terraform's wire encodings of a value <-> [`Value`], driven by a [`Type`].
//!
//! Terraform sends every value as a `DynamicValue`: msgpack (always, for requests), or JSON
//! (stored state given to UpgradeResourceState, and allowed in DynamicValue.json). Both are
//! cty's encodings:
//!
//! * msgpack: null is `nil`; unknown is an extension value of type 0 (type 12, an unknown with
//!   refinements such as "not null", is also read as unknown); numbers are ints, floats, or
//!   strings for numbers too large or precise for either; objects are maps with every
//!   attribute, in name order; a value of type [`Type::Dynamic`] is the pair
//!   `[type as JSON bytes, value]`.
//! * JSON: the obvious mapping; unknown cannot be represented; a dynamic value is
//!   `{"value": ..., "type": ...}`.
//!
//! Decoding never panics on bad input: every error names the attribute path where it happened.

mod json;
mod msgpack;

#[cfg(test)]
mod tests;

pub use json::{decode_json, decode_json_lenient, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};

use super::value::{AttrPath, PathStep, Type, Value};

/// A value that does not fit its type or its encoding, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    pub path: AttrPath,
    pub message: String,
}

impl CodecError {
    fn at(path: &[PathStep], message: impl Into<String>) -> Self {
        CodecError {
            path: AttrPath(path.to_vec()),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.0.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for CodecError {}

/// The concrete type a value of [`Type::Dynamic`] is written with. Values carry no type of
/// their own, so it is inferred: null and unknown parts become `dynamic`, and the elements of
/// a list, set or map must agree on one type.
fn infer_type(value: &Value, path: &mut Vec<PathStep>) -> Result<Type, CodecError> {
    Ok(match value {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(vs) => Type::list(infer_element_type(vs.iter().enumerate(), path)?),
        Value::Set(vs) => Type::set(infer_element_type(vs.iter().enumerate(), path)?),
        Value::Map(m) => Type::map(infer_element_type(m.iter(), path)?),
        Value::Tuple(vs) => {
            let mut tys = Vec::with_capacity(vs.len());
            for (i, v) in vs.iter().enumerate() {
                path.push(PathStep::Index(i as i64));
                tys.push(infer_type(v, path)?);
                path.pop();
            }
            Type::Tuple(tys)
        }
        Value::Object(m) => {
            let mut attrs = std::collections::BTreeMap::new();
            for (k, v) in m {
                path.push(PathStep::Attr(k.clone()));
                attrs.insert(k.clone(), infer_type(v, path)?);
                path.pop();
            }
            Type::Object(attrs)
        }
    })
}

/// Key of a collection element, for paths.
trait ElementKey {
    fn step(&self) -> PathStep;
}
impl ElementKey for usize {
    fn step(&self) -> PathStep {
        PathStep::Index(*self as i64)
    }
}
impl ElementKey for &String {
    fn step(&self) -> PathStep {
        PathStep::Key((*self).clone())
    }
}

fn infer_element_type<'a, K: ElementKey>(
    elems: impl Iterator<Item = (K, &'a Value)>,
    path: &mut Vec<PathStep>,
) -> Result<Type, CodecError> {
    let mut ty = Type::Dynamic;
    for (k, v) in elems {
        path.push(k.step());
        let t = infer_type(v, path)?;
        ty = unify(&ty, &t).ok_or_else(|| {
            CodecError::at(
                path,
                format!(
                    "elements of a dynamically-typed collection must share one type; found {} and {}",
                    ty.to_json(),
                    t.to_json()
                ),
            )
        })?;
        path.pop();
    }
    Ok(ty)
}

/// The most specific type both inferred types fit (`dynamic` fits anything).
fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Dynamic, t) | (t, Type::Dynamic) => Some(t.clone()),
        (Type::List(x), Type::List(y)) => Some(Type::list(unify(x, y)?)),
        (Type::Set(x), Type::Set(y)) => Some(Type::set(unify(x, y)?)),
        (Type::Map(x), Type::Map(y)) => Some(Type::map(unify(x, y)?)),
        (Type::Object(x), Type::Object(y)) => {
            if x.len() != y.len() {
                return None;
            }
            let mut out = std::collections::BTreeMap::new();
            for ((kx, tx), (ky, ty)) in x.iter().zip(y.iter()) {
                if kx != ky {
                    return None;
                }
                out.insert(kx.clone(), unify(tx, ty)?);
            }
            Some(Type::Object(out))
        }
        (Type::Tuple(x), Type::Tuple(y)) => {
            if x.len() != y.len() {
                return None;
            }
            Some(Type::Tuple(
                x.iter()
                    .zip(y.iter())
                    .map(|(a, b)| unify(a, b))
                    .collect::<Option<_>>()?,
            ))
        }
        (x, y) if x == y => Some(x.clone()),
        _ => None,
    }
}

/// A short name of what a value is, for "expected X, got Y" messages.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown => "an unknown value",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
        Value::Tuple(_) => "a tuple",
    }
}

/// A short name of a type, for messages.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Number => "number".into(),
        Type::String => "string".into(),
        Type::Dynamic => "any value".into(),
        other => other.to_json().to_string(),
    }
}

/// Parses a number written as a string (cty's encoding of numbers too large or too precise
/// for msgpack ints and floats, and JSON state written by some providers).
fn parse_number(s: &str) -> Option<super::value::Number> {
    use super::value::Number;
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::Int(i));
    }
    match t.parse::<f64>() {
        Ok(f) if !f.is_nan() => Some(Number::Float(f)),
        _ => None,
    }
}
