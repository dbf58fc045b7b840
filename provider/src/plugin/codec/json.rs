//! JSON <-> [`Value`], as cty encodes values in stored state and DynamicValue.json.

use super::{CodecError, describe, infer_type, parse_number, type_name};
use crate::plugin::value::{Number, PathStep, Type, Value};
use serde_json::Value as J;
use std::collections::BTreeMap;

/// Decodes JSON as a value of type `ty`. Object attributes missing from the JSON are null;
/// attributes the type does not have are an error.
pub fn decode_json(json: &J, ty: &Type) -> Result<Value, CodecError> {
    Decoder {
        drop_unknown_attributes: false,
    }
    .value(json, ty, &mut Vec::new())
}

/// Like [`decode_json`], but silently drops object attributes the type does not have: stored
/// state written by an older provider version may hold attributes since removed.
pub fn decode_json_lenient(json: &J, ty: &Type) -> Result<Value, CodecError> {
    Decoder {
        drop_unknown_attributes: true,
    }
    .value(json, ty, &mut Vec::new())
}

/// Encodes a value of type `ty` as JSON. Unknown values cannot be written as JSON.
pub fn encode_json(value: &Value, ty: &Type) -> Result<J, CodecError> {
    encode(value, ty, &mut Vec::new())
}

struct Decoder {
    drop_unknown_attributes: bool,
}

fn found(json: &J) -> &'static str {
    match json {
        J::Null => "null",
        J::Bool(_) => "a bool",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

fn expected(what: &str, json: &J, path: &[PathStep]) -> CodecError {
    CodecError::at(path, format!("expected {what}, found {}", found(json)))
}

impl Decoder {
    fn value(&self, json: &J, ty: &Type, path: &mut Vec<PathStep>) -> Result<Value, CodecError> {
        if json.is_null() {
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => {
                let obj = json
                    .as_object()
                    .ok_or_else(|| expected("a {\"value\", \"type\"} object", json, path))?;
                let type_json = obj.get("type").ok_or_else(|| {
                    CodecError::at(path, "dynamically-typed value has no \"type\"")
                })?;
                let concrete = Type::from_json(type_json)
                    .map_err(|e| CodecError::at(path, format!("invalid type {type_json}: {e}")))?;
                self.value(obj.get("value").unwrap_or(&J::Null), &concrete, path)
            }
            Type::Bool => match json {
                J::Bool(b) => Ok(Value::Bool(*b)),
                J::String(s) if s == "true" => Ok(Value::Bool(true)),
                J::String(s) if s == "false" => Ok(Value::Bool(false)),
                other => Err(expected("a bool", other, path)),
            },
            Type::Number => match json {
                J::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        Ok(Value::Number(Number::Int(i)))
                    } else if let Some(f) = n.as_f64() {
                        Ok(Value::Number(Number::Float(f)))
                    } else {
                        Err(CodecError::at(path, format!("number {n} is out of range")))
                    }
                }
                J::String(s) => parse_number(s).map(Value::Number).ok_or_else(|| {
                    CodecError::at(path, format!("expected a number, found the string {s:?}"))
                }),
                other => Err(expected("a number", other, path)),
            },
            Type::String => match json {
                J::String(s) => Ok(Value::String(s.clone())),
                // cty converts primitives to string the same way.
                J::Number(n) => Ok(Value::String(n.to_string())),
                J::Bool(b) => Ok(Value::String(b.to_string())),
                other => Err(expected("a string", other, path)),
            },
            Type::List(et) | Type::Set(et) => {
                let arr = json
                    .as_array()
                    .ok_or_else(|| expected(&format!("a {}", type_name(ty)), json, path))?;
                let mut out = Vec::with_capacity(arr.len());
                for (i, j) in arr.iter().enumerate() {
                    path.push(PathStep::Index(i as i64));
                    out.push(self.value(j, et, path)?);
                    path.pop();
                }
                Ok(if matches!(ty, Type::Set(_)) {
                    Value::Set(out)
                } else {
                    Value::List(out)
                })
            }
            Type::Tuple(ets) => {
                let arr = json
                    .as_array()
                    .ok_or_else(|| expected("a tuple", json, path))?;
                if arr.len() != ets.len() {
                    return Err(CodecError::at(
                        path,
                        format!(
                            "expected a tuple of {} elements, found {}",
                            ets.len(),
                            arr.len()
                        ),
                    ));
                }
                let mut out = Vec::with_capacity(arr.len());
                for (i, (j, et)) in arr.iter().zip(ets).enumerate() {
                    path.push(PathStep::Index(i as i64));
                    out.push(self.value(j, et, path)?);
                    path.pop();
                }
                Ok(Value::Tuple(out))
            }
            Type::Map(et) => {
                let obj = json
                    .as_object()
                    .ok_or_else(|| expected("a map", json, path))?;
                let mut out = BTreeMap::new();
                for (k, j) in obj {
                    path.push(PathStep::Key(k.clone()));
                    out.insert(k.clone(), self.value(j, et, path)?);
                    path.pop();
                }
                Ok(Value::Map(out))
            }
            Type::Object(attrs) => {
                let obj = json
                    .as_object()
                    .ok_or_else(|| expected("an object", json, path))?;
                let mut out = BTreeMap::new();
                for (k, j) in obj {
                    path.push(PathStep::Attr(k.clone()));
                    match attrs.get(k) {
                        Some(at) => {
                            out.insert(k.clone(), self.value(j, at, path)?);
                        }
                        None if self.drop_unknown_attributes => {}
                        None => return Err(CodecError::at(path, "unsupported attribute")),
                    }
                    path.pop();
                }
                for name in attrs.keys() {
                    if !out.contains_key(name) {
                        out.insert(name.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(out))
            }
        }
    }
}

fn encode(value: &Value, ty: &Type, path: &mut Vec<PathStep>) -> Result<J, CodecError> {
    match value {
        Value::Null => return Ok(J::Null),
        Value::Unknown => {
            return Err(CodecError::at(
                path,
                "an unknown value cannot be written as JSON",
            ));
        }
        _ => {}
    }
    let mismatch = |path: &[PathStep]| {
        CodecError::at(
            path,
            format!("expected {}, got {}", type_name(ty), describe(value)),
        )
    };
    match (ty, value) {
        (Type::Dynamic, v) => {
            let concrete = infer_type(v, path)?;
            let inner = encode(v, &concrete, path)?;
            Ok(serde_json::json!({ "value": inner, "type": concrete.to_json() }))
        }
        (Type::Bool, Value::Bool(b)) => Ok(J::Bool(*b)),
        (Type::Number, Value::Number(n)) => match *n {
            Number::Int(i) => Ok(J::from(i)),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map(J::Number)
                .ok_or_else(|| {
                    CodecError::at(path, format!("{f} cannot be written as a JSON number"))
                }),
        },
        (Type::String, Value::String(s)) => Ok(J::String(s.clone())),
        (Type::List(et) | Type::Set(et), Value::List(vs) | Value::Set(vs) | Value::Tuple(vs)) => {
            let mut out = Vec::with_capacity(vs.len());
            for (i, v) in vs.iter().enumerate() {
                path.push(PathStep::Index(i as i64));
                out.push(encode(v, et, path)?);
                path.pop();
            }
            Ok(J::Array(out))
        }
        (Type::Tuple(ets), Value::Tuple(vs) | Value::List(vs)) => {
            if ets.len() != vs.len() {
                return Err(CodecError::at(
                    path,
                    format!(
                        "expected a tuple of {} elements, got {}",
                        ets.len(),
                        vs.len()
                    ),
                ));
            }
            let mut out = Vec::with_capacity(vs.len());
            for (i, (v, et)) in vs.iter().zip(ets).enumerate() {
                path.push(PathStep::Index(i as i64));
                out.push(encode(v, et, path)?);
                path.pop();
            }
            Ok(J::Array(out))
        }
        (Type::Map(et), Value::Map(m) | Value::Object(m)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                path.push(PathStep::Key(k.clone()));
                out.insert(k.clone(), encode(v, et, path)?);
                path.pop();
            }
            Ok(J::Object(out))
        }
        (Type::Object(attrs), Value::Object(m) | Value::Map(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                path.push(PathStep::Attr(extra.clone()));
                return Err(CodecError::at(path, "attribute is not in the schema"));
            }
            let mut out = serde_json::Map::new();
            for (name, at) in attrs {
                path.push(PathStep::Attr(name.clone()));
                out.insert(
                    name.clone(),
                    encode(m.get(name).unwrap_or(&Value::Null), at, path)?,
                );
                path.pop();
            }
            Ok(J::Object(out))
        }
        _ => Err(mismatch(path)),
    }
}
