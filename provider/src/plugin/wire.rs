//! Conversions between this module's types and the generated tfplugin6 messages: schemas,
//! diagnostics with attribute paths, DynamicValues, client capabilities.

use super::codec::{self, CodecError};
use super::diagnostics::{Diagnostic, Diagnostics, Severity};
use super::proto::tfplugin6 as pb;
use super::provider::ClientCapabilities;
use super::schema::{AttrKind, Attribute, Block, IdentitySchema, Nesting, Schema};
use super::value::{AttrPath, PathStep, Type, Value};

pub fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block, s.version)),
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: Vec::new(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: b.deprecated,
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested_type) = match &a.kind {
        AttrKind::Typed(t) => (t.to_json().to_string().into_bytes(), None),
        AttrKind::Nested(nesting, attrs) => (
            Vec::new(),
            Some(pb::schema::Object {
                attributes: attrs.iter().map(attribute).collect(),
                nesting: object_nesting(*nesting) as i32,
                ..Default::default()
            }),
        ),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: a.deprecated,
        write_only: a.write_only,
    }
}

fn object_nesting(n: Nesting) -> pb::schema::object::NestingMode {
    use pb::schema::object::NestingMode as M;
    match n {
        Nesting::Single => M::Single,
        Nesting::List => M::List,
        Nesting::Set => M::Set,
        Nesting::Map => M::Map,
    }
}

pub fn identity_schema(s: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json().to_string().into_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: a.optional_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

pub fn attribute_path(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d
            .path
            .as_ref()
            .filter(|p| !p.0.is_empty())
            .map(attribute_path),
    }
}

pub fn diagnostics(ds: &Diagnostics) -> Vec<pb::Diagnostic> {
    ds.0.iter().map(diagnostic).collect()
}

pub fn capabilities(c: Option<&pb::ClientCapabilities>) -> ClientCapabilities {
    c.map(|c| ClientCapabilities {
        deferral_allowed: c.deferral_allowed,
        write_only_attributes_allowed: c.write_only_attributes_allowed,
    })
    .unwrap_or_default()
}

/// Decodes a DynamicValue (msgpack preferred, else JSON). An absent or empty one is null.
pub fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, CodecError> {
    let Some(dv) = dv else {
        return Ok(Value::Null);
    };
    if !dv.msgpack.is_empty() {
        return codec::decode_msgpack(&dv.msgpack, ty);
    }
    if !dv.json.is_empty() {
        let json: serde_json::Value = serde_json::from_slice(&dv.json).map_err(|e| CodecError {
            path: AttrPath::root(),
            message: format!("invalid JSON: {e}"),
        })?;
        return codec::decode_json(&json, ty);
    }
    Ok(Value::Null)
}

pub fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, CodecError> {
    Ok(pb::DynamicValue {
        msgpack: codec::encode_msgpack(v, ty)?,
        json: Vec::new(),
    })
}

/// A diagnostic for a value Terraform sent that does not fit the schema.
pub fn bad_input(what: &str, e: &CodecError) -> Diagnostic {
    Diagnostic::error(
        format!("Invalid {what} received from Terraform"),
        format!(
            "The provider could not read the {what}: {e}. This is a bug in Terraform or the \
             provider; please report it."
        ),
    )
    .at(e.path.clone())
}

/// A diagnostic for a value the provider produced that does not fit its own schema.
pub fn bad_output(what: &str, e: &CodecError) -> Diagnostic {
    Diagnostic::error(
        format!("Provider produced an invalid {what}"),
        format!("The {what} does not fit the resource schema: {e}. This is a bug in the provider; please report it."),
    )
    .at(e.path.clone())
}
