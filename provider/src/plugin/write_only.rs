//! Write-only attributes (protocol 6.8+, Terraform 1.11+): present in configuration, never in
//! plan or state. Terraform rejects a planned or new state that holds a non-null write-only
//! value, so the server nulls them from the schema, whatever the resource code returned.

use super::schema::{AttrKind, Attribute, Block};
use super::value::{AttrPath, Value};

/// Sets every write-only attribute in `value` (an object of `block`) to null, at any depth of
/// nested attributes. Null and unknown values are left alone.
pub fn null_write_only(block: &Block, value: &mut Value) {
    if !has_write_only(&block.attributes) {
        return;
    }
    null_in_object(&block.attributes, value);
}

/// Paths of write-only attributes that are set (not null) in `config`.
pub fn set_write_only_paths(block: &Block, config: &Value) -> Vec<AttrPath> {
    let mut out = Vec::new();
    if has_write_only(&block.attributes) {
        find_in_object(&block.attributes, config, &AttrPath::root(), &mut out);
    }
    out
}

fn has_write_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.write_only || matches!(&a.kind, AttrKind::Nested(_, inner) if has_write_only(inner))
    })
}

fn null_in_object(attrs: &[Attribute], value: &mut Value) {
    let Value::Object(fields) = value else {
        return;
    };
    for a in attrs {
        let Some(v) = fields.get_mut(&a.name) else {
            continue;
        };
        if a.write_only {
            *v = Value::Null;
        } else if let AttrKind::Nested(_, inner) = &a.kind {
            if !has_write_only(inner) {
                continue;
            }
            match v {
                Value::Object(_) => null_in_object(inner, v),
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                    items.iter_mut().for_each(|i| null_in_object(inner, i))
                }
                Value::Map(m) => m.values_mut().for_each(|i| null_in_object(inner, i)),
                _ => {}
            }
        }
    }
}

fn find_in_object(attrs: &[Attribute], value: &Value, path: &AttrPath, out: &mut Vec<AttrPath>) {
    let Value::Object(fields) = value else {
        return;
    };
    for a in attrs {
        let Some(v) = fields.get(&a.name) else {
            continue;
        };
        let here = path.then_attr(&a.name);
        if a.write_only {
            if !v.is_null() {
                out.push(here);
            }
        } else if let AttrKind::Nested(_, inner) = &a.kind {
            match v {
                Value::Object(_) => find_in_object(inner, v, &here, out),
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                    for (i, item) in items.iter().enumerate() {
                        find_in_object(inner, item, &here.then_index(i), out);
                    }
                }
                Value::Map(m) => {
                    for (k, item) in m {
                        find_in_object(inner, item, &here.then_key(k), out);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::schema::Nesting;
    use crate::plugin::value::{PathStep, Type};

    fn block() -> Block {
        Block {
            description: String::new(),
            attributes: vec![
                Attribute::typed("name", Type::String, "").required(),
                Attribute::typed("secret_wo", Type::map(Type::String), "")
                    .optional()
                    .write_only(),
                Attribute::nested(
                    "ports",
                    Nesting::List,
                    vec![
                        Attribute::typed("port", Type::Number, "").required(),
                        Attribute::typed("token_wo", Type::String, "")
                            .optional()
                            .write_only(),
                    ],
                    "",
                )
                .optional(),
                Attribute::nested(
                    "single",
                    Nesting::Single,
                    vec![
                        Attribute::typed("pw", Type::String, "")
                            .optional()
                            .write_only(),
                    ],
                    "",
                )
                .optional(),
            ],
            deprecated: false,
        }
    }

    fn obj(kvs: Vec<(&str, Value)>) -> Value {
        Value::Object(kvs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn nulls_write_only_at_every_depth() {
        let mut v = obj(vec![
            ("name", Value::string("a")),
            (
                "secret_wo",
                Value::Map([("K".to_string(), Value::string("s"))].into()),
            ),
            (
                "ports",
                Value::List(vec![
                    obj(vec![
                        ("port", Value::int(80)),
                        ("token_wo", Value::string("t")),
                    ]),
                    obj(vec![("port", Value::int(81)), ("token_wo", Value::Unknown)]),
                ]),
            ),
            ("single", obj(vec![("pw", Value::string("p"))])),
        ]);
        let found = set_write_only_paths(&block(), &v);
        assert_eq!(
            found.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            vec![
                "secret_wo",
                "ports[0].token_wo",
                "ports[1].token_wo",
                "single.pw"
            ]
        );
        null_write_only(&block(), &mut v);
        assert_eq!(v.get("name"), Some(&Value::string("a")));
        assert_eq!(v.get("secret_wo"), Some(&Value::Null));
        let ports = v.get("ports").and_then(Value::elements).unwrap();
        assert!(
            ports
                .iter()
                .all(|p| p.get("token_wo") == Some(&Value::Null))
        );
        assert_eq!(ports[0].get("port"), Some(&Value::int(80)));
        assert_eq!(
            v.get("single").and_then(|s| s.get("pw")),
            Some(&Value::Null)
        );
        assert!(set_write_only_paths(&block(), &v).is_empty());
        assert_eq!(found[1].0[1], PathStep::Index(0));
    }

    #[test]
    fn null_and_unknown_states_pass_through() {
        let mut v = Value::Null;
        null_write_only(&block(), &mut v);
        assert_eq!(v, Value::Null);
        let mut v = Value::Unknown;
        null_write_only(&block(), &mut v);
        assert_eq!(v, Value::Unknown);
    }
}
