//! msgpack <-> [`Value`], as cty encodes values for the plugin protocol.

use super::{CodecError, describe, infer_type, parse_number, type_name};
use crate::plugin::value::{Number, PathStep, Type, Value};
use rmp::Marker;
use std::collections::BTreeMap;

/// Extension type of a wholly unknown value.
const EXT_UNKNOWN: i8 = 0;
/// Extension type of an unknown value with refinements (payload ignored: still unknown).
const EXT_REFINED_UNKNOWN: i8 = 12;

/// Decodes msgpack bytes as a value of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let mut path = Vec::new();
    let v = r.value(ty, &mut path)?;
    if r.pos != bytes.len() {
        return Err(CodecError::at(
            &[],
            format!(
                "{} bytes of unexpected data after the value",
                bytes.len() - r.pos
            ),
        ));
    }
    Ok(v)
}

/// Encodes a value of type `ty` as msgpack. Object attributes missing from the value are
/// written as null; attributes the type does not have are an error.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(64);
    let mut path = Vec::new();
    write_value(&mut out, value, ty, &mut path)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn eof(path: &[PathStep]) -> CodecError {
        CodecError::at(path, "msgpack data ends in the middle of a value")
    }

    fn peek(&self, path: &[PathStep]) -> Result<Marker, CodecError> {
        self.buf
            .get(self.pos)
            .map(|b| Marker::from_u8(*b))
            .ok_or_else(|| Self::eof(path))
    }

    fn take(&mut self, n: usize, path: &[PathStep]) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or_else(|| Self::eof(path))?;
        let s = self.buf.get(self.pos..end).ok_or_else(|| Self::eof(path))?;
        self.pos = end;
        Ok(s)
    }

    fn be<const N: usize>(&mut self, path: &[PathStep]) -> Result<[u8; N], CodecError> {
        let s = self.take(N, path)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u8(&mut self, path: &[PathStep]) -> Result<u8, CodecError> {
        Ok(self.be::<1>(path)?[0])
    }
    fn u16(&mut self, path: &[PathStep]) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.be(path)?))
    }
    fn u32(&mut self, path: &[PathStep]) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.be(path)?))
    }

    /// Reads the marker byte and, for extension markers, returns the extension type and
    /// skips the payload.
    fn ext(&mut self, marker: Marker, path: &[PathStep]) -> Result<Option<i8>, CodecError> {
        let len = match marker {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => {
                self.pos += 1;
                self.u8(path)? as usize
            }
            Marker::Ext16 => {
                self.pos += 1;
                self.u16(path)? as usize
            }
            Marker::Ext32 => {
                self.pos += 1;
                self.u32(path)? as usize
            }
            _ => return Ok(None),
        };
        if matches!(
            marker,
            Marker::FixExt1
                | Marker::FixExt2
                | Marker::FixExt4
                | Marker::FixExt8
                | Marker::FixExt16
        ) {
            self.pos += 1;
        }
        let ext_type = self.u8(path)? as i8;
        self.take(len, path)?;
        Ok(Some(ext_type))
    }

    fn array_len(&mut self, path: &[PathStep], what: &str) -> Result<usize, CodecError> {
        let marker = self.peek(path)?;
        let len = match marker {
            Marker::FixArray(n) => {
                self.pos += 1;
                n as usize
            }
            Marker::Array16 => {
                self.pos += 1;
                self.u16(path)? as usize
            }
            Marker::Array32 => {
                self.pos += 1;
                self.u32(path)? as usize
            }
            other => return Err(self.mismatch(other, what, path)),
        };
        Ok(len)
    }

    fn map_len(&mut self, path: &[PathStep], what: &str) -> Result<usize, CodecError> {
        let marker = self.peek(path)?;
        let len = match marker {
            Marker::FixMap(n) => {
                self.pos += 1;
                n as usize
            }
            Marker::Map16 => {
                self.pos += 1;
                self.u16(path)? as usize
            }
            Marker::Map32 => {
                self.pos += 1;
                self.u32(path)? as usize
            }
            other => return Err(self.mismatch(other, what, path)),
        };
        Ok(len)
    }

    /// A string (msgpack str, or bin holding UTF-8: both appear in cty encodings).
    fn string(&mut self, path: &[PathStep], what: &str) -> Result<&'a str, CodecError> {
        let marker = self.peek(path)?;
        let len = match marker {
            Marker::FixStr(n) => {
                self.pos += 1;
                n as usize
            }
            Marker::Str8 | Marker::Bin8 => {
                self.pos += 1;
                self.u8(path)? as usize
            }
            Marker::Str16 | Marker::Bin16 => {
                self.pos += 1;
                self.u16(path)? as usize
            }
            Marker::Str32 | Marker::Bin32 => {
                self.pos += 1;
                self.u32(path)? as usize
            }
            other => return Err(self.mismatch(other, what, path)),
        };
        let bytes = self.take(len, path)?;
        std::str::from_utf8(bytes).map_err(|_| CodecError::at(path, "string is not valid UTF-8"))
    }

    fn mismatch(&self, marker: Marker, what: &str, path: &[PathStep]) -> CodecError {
        let found = match marker {
            Marker::Null => "null",
            Marker::True | Marker::False => "a bool",
            Marker::FixPos(_)
            | Marker::FixNeg(_)
            | Marker::U8
            | Marker::U16
            | Marker::U32
            | Marker::U64
            | Marker::I8
            | Marker::I16
            | Marker::I32
            | Marker::I64
            | Marker::F32
            | Marker::F64 => "a number",
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "a string",
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary data",
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "an array",
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "a map",
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => "an extension value",
            Marker::Reserved => "an invalid msgpack byte",
        };
        CodecError::at(path, format!("expected {what}, found {found}"))
    }

    fn value(&mut self, ty: &Type, path: &mut Vec<PathStep>) -> Result<Value, CodecError> {
        let marker = self.peek(path)?;
        if let Some(ext) = self.ext(marker, path)? {
            return match ext {
                EXT_UNKNOWN | EXT_REFINED_UNKNOWN => Ok(Value::Unknown),
                other => Err(CodecError::at(
                    path,
                    format!("unsupported msgpack extension type {other}"),
                )),
            };
        }
        if marker == Marker::Null {
            self.pos += 1;
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => self.dynamic(path),
            Type::Bool => match marker {
                Marker::True => {
                    self.pos += 1;
                    Ok(Value::Bool(true))
                }
                Marker::False => {
                    self.pos += 1;
                    Ok(Value::Bool(false))
                }
                other => Err(self.mismatch(other, "a bool", path)),
            },
            Type::Number => self.number(marker, path).map(Value::Number),
            Type::String => Ok(Value::String(self.string(path, "a string")?.to_owned())),
            Type::List(et) => Ok(Value::List(self.elements(et, path, "a list")?)),
            Type::Set(et) => Ok(Value::Set(self.elements(et, path, "a set")?)),
            Type::Tuple(ets) => {
                let len = self.array_len(path, "a tuple")?;
                if len != ets.len() {
                    return Err(CodecError::at(
                        path,
                        format!("expected a tuple of {} elements, found {len}", ets.len()),
                    ));
                }
                let mut out = Vec::with_capacity(len);
                for (i, et) in ets.iter().enumerate() {
                    path.push(PathStep::Index(i as i64));
                    out.push(self.value(et, path)?);
                    path.pop();
                }
                Ok(Value::Tuple(out))
            }
            Type::Map(et) => {
                let len = self.map_len(path, "a map")?;
                let mut out = BTreeMap::new();
                for _ in 0..len {
                    let key = self.string(path, "a string map key")?.to_owned();
                    path.push(PathStep::Key(key.clone()));
                    let v = self.value(et, path)?;
                    path.pop();
                    out.insert(key, v);
                }
                Ok(Value::Map(out))
            }
            Type::Object(attrs) => {
                let len = self.map_len(path, "an object")?;
                let mut out = BTreeMap::new();
                for _ in 0..len {
                    let key = self.string(path, "an attribute name")?;
                    path.push(PathStep::Attr(key.to_owned()));
                    let Some(at) = attrs.get(key) else {
                        return Err(CodecError::at(path, "unsupported attribute"));
                    };
                    let v = self.value(at, path)?;
                    path.pop();
                    out.insert(key.to_owned(), v);
                }
                // Attributes left out are null (cty always writes all of them).
                for name in attrs.keys() {
                    if !out.contains_key(name) {
                        out.insert(name.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(out))
            }
        }
    }

    fn elements(
        &mut self,
        et: &Type,
        path: &mut Vec<PathStep>,
        what: &str,
    ) -> Result<Vec<Value>, CodecError> {
        let len = self.array_len(path, what)?;
        // Every element takes at least one byte: don't trust a length beyond what's left.
        let mut out = Vec::with_capacity(len.min(self.buf.len() - self.pos));
        for i in 0..len {
            path.push(PathStep::Index(i as i64));
            out.push(self.value(et, path)?);
            path.pop();
        }
        Ok(out)
    }

    fn number(&mut self, marker: Marker, path: &[PathStep]) -> Result<Number, CodecError> {
        let n = match marker {
            Marker::FixPos(n) => {
                self.pos += 1;
                Number::Int(n as i64)
            }
            Marker::FixNeg(n) => {
                self.pos += 1;
                Number::Int(n as i64)
            }
            Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => {
                self.pos += 1;
                let u = match marker {
                    Marker::U8 => self.u8(path)? as u64,
                    Marker::U16 => self.u16(path)? as u64,
                    Marker::U32 => self.u32(path)? as u64,
                    _ => u64::from_be_bytes(self.be(path)?),
                };
                match i64::try_from(u) {
                    Ok(i) => Number::Int(i),
                    Err(_) => Number::Float(u as f64),
                }
            }
            Marker::I8 => {
                self.pos += 1;
                Number::Int(i8::from_be_bytes(self.be(path)?) as i64)
            }
            Marker::I16 => {
                self.pos += 1;
                Number::Int(i16::from_be_bytes(self.be(path)?) as i64)
            }
            Marker::I32 => {
                self.pos += 1;
                Number::Int(i32::from_be_bytes(self.be(path)?) as i64)
            }
            Marker::I64 => {
                self.pos += 1;
                Number::Int(i64::from_be_bytes(self.be(path)?))
            }
            Marker::F32 => {
                self.pos += 1;
                Number::Float(f32::from_be_bytes(self.be(path)?) as f64)
            }
            Marker::F64 => {
                self.pos += 1;
                Number::Float(f64::from_be_bytes(self.be(path)?))
            }
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let s = self.string(path, "a number")?;
                parse_number(s).ok_or_else(|| {
                    CodecError::at(path, format!("expected a number, found the string {s:?}"))
                })?
            }
            other => return Err(self.mismatch(other, "a number", path)),
        };
        if let Number::Float(f) = n
            && f.is_nan()
        {
            return Err(CodecError::at(
                path,
                "NaN is not a number Terraform accepts",
            ));
        }
        Ok(n)
    }

    /// A value of dynamic type: `[type JSON, value]` (null and unknown were handled before).
    fn dynamic(&mut self, path: &mut Vec<PathStep>) -> Result<Value, CodecError> {
        let len = self.array_len(path, "a [type, value] pair for a dynamically-typed value")?;
        if len != 2 {
            return Err(CodecError::at(
                path,
                format!(
                    "a dynamically-typed value must be a [type, value] pair, found {len} elements"
                ),
            ));
        }
        let type_json = self.string(path, "the JSON type of a dynamically-typed value")?;
        let json: serde_json::Value = serde_json::from_str(type_json)
            .map_err(|e| CodecError::at(path, format!("invalid type JSON {type_json:?}: {e}")))?;
        let ty = Type::from_json(&json)
            .map_err(|e| CodecError::at(path, format!("invalid type {type_json}: {e}")))?;
        self.value(&ty, path)
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

fn write_value(
    out: &mut Vec<u8>,
    value: &Value,
    ty: &Type,
    path: &mut Vec<PathStep>,
) -> Result<(), CodecError> {
    match value {
        Value::Unknown => {
            // fixext1, type 0, one zero byte: cty's compact "wholly unknown".
            out.extend_from_slice(&[0xd4, EXT_UNKNOWN as u8, 0]);
            return Ok(());
        }
        Value::Null => {
            out.push(0xc0);
            return Ok(());
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
            let type_json = concrete.to_json().to_string();
            write_array_len(out, 2);
            // cty writes the type as msgpack bin.
            write_bin(out, type_json.as_bytes());
            write_value(out, v, &concrete, path)
        }
        (Type::Bool, Value::Bool(b)) => {
            out.push(if *b { 0xc3 } else { 0xc2 });
            Ok(())
        }
        (Type::Number, Value::Number(n)) => match *n {
            Number::Int(i) => {
                // Writing to a Vec cannot fail.
                let _ = rmp::encode::write_sint(out, i);
                Ok(())
            }
            Number::Float(f) if f.is_nan() => Err(CodecError::at(
                path,
                "NaN is not a number Terraform accepts",
            )),
            Number::Float(f) => {
                let _ = rmp::encode::write_f64(out, f);
                Ok(())
            }
        },
        (Type::String, Value::String(s)) => {
            write_str(out, s);
            Ok(())
        }
        (Type::List(et) | Type::Set(et), Value::List(vs) | Value::Set(vs) | Value::Tuple(vs)) => {
            write_array_len(out, vs.len());
            for (i, v) in vs.iter().enumerate() {
                path.push(PathStep::Index(i as i64));
                write_value(out, v, et, path)?;
                path.pop();
            }
            Ok(())
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
            write_array_len(out, vs.len());
            for (i, (v, et)) in vs.iter().zip(ets).enumerate() {
                path.push(PathStep::Index(i as i64));
                write_value(out, v, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Map(et), Value::Map(m) | Value::Object(m)) => {
            write_map_len(out, m.len());
            for (k, v) in m {
                write_str(out, k);
                path.push(PathStep::Key(k.clone()));
                write_value(out, v, et, path)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(m) | Value::Map(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                path.push(PathStep::Attr(extra.clone()));
                return Err(CodecError::at(path, "attribute is not in the schema"));
            }
            write_map_len(out, attrs.len());
            for (name, at) in attrs {
                write_str(out, name);
                path.push(PathStep::Attr(name.clone()));
                write_value(out, m.get(name).unwrap_or(&Value::Null), at, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Err(mismatch(path)),
    }
}

fn write_array_len(out: &mut Vec<u8>, len: usize) {
    let _ = rmp::encode::write_array_len(out, len as u32);
}

fn write_map_len(out: &mut Vec<u8>, len: usize) {
    let _ = rmp::encode::write_map_len(out, len as u32);
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = rmp::encode::write_str(out, s);
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    let _ = rmp::encode::write_bin(out, b);
}
