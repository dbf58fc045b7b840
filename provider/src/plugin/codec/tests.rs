use super::*;
use crate::plugin::value::{AttrPath, Number};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Generators: a type, then a value of that type.

fn arb_type(allow_dynamic: bool) -> BoxedStrategy<Type> {
    let leaf = if allow_dynamic {
        prop_oneof![
            Just(Type::Bool),
            Just(Type::Number),
            Just(Type::String),
            Just(Type::Dynamic)
        ]
        .boxed()
    } else {
        prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)].boxed()
    };
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
    .boxed()
}

fn arb_number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        (-1000i64..1000).prop_map(Number::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Number::Float),
        Just(Number::Float(f64::INFINITY)),
    ]
    .boxed()
}

/// A value of type `ty`; with `unknowns`, null and unknown appear anywhere.
fn arb_value(ty: &Type, unknowns: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        // A dynamic slot holds a value of some concrete type.
        Type::Dynamic => arb_type(false)
            .prop_flat_map(move |t| arb_value(&t, unknowns))
            .boxed(),
        Type::List(et) => prop::collection::vec(arb_value(et, unknowns), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => prop::collection::vec(arb_value(et, unknowns), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(et) => prop::collection::btree_map(".{0,6}", arb_value(et, unknowns), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => attrs
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                arb_value(t, unknowns).prop_map(move |v| (k.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|kvs| Value::Object(kvs.into_iter().collect()))
            .boxed(),
        Type::Tuple(ets) => ets
            .iter()
            .map(|t| arb_value(t, unknowns))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
    };
    if unknowns {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn arb_typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type(true).prop_flat_map(move |t| {
        let t2 = t.clone();
        arb_value(&t, unknowns).prop_map(move |v| (t2.clone(), v))
    })
}

/// JSON cannot write infinity; keep JSON round trips to finite numbers.
fn all_finite(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_finite(),
        Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => vs.iter().all(all_finite),
        Value::Map(m) | Value::Object(m) => m.values().all(all_finite),
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn msgpack_round_trips((ty, v) in arb_typed_value(true)) {
        let bytes = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = decode_msgpack(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn json_round_trips((ty, v) in arb_typed_value(false)) {
        prop_assume!(all_finite(&v));
        let j = encode_json(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Through text, as stored state is.
        let text = serde_json::to_string(&j).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let back = decode_json(&parsed, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn msgpack_decode_never_panics(ty in arb_type(true), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_msgpack(&bytes, &ty);
    }

    #[test]
    fn msgpack_decode_of_mangled_values_never_panics(
        (ty, v) in arb_typed_value(true),
        cut in any::<prop::sample::Index>(),
        flip in any::<(prop::sample::Index, u8)>(),
    ) {
        let bytes = encode_msgpack(&v, &ty).unwrap();
        let _ = decode_msgpack(&bytes[..cut.index(bytes.len() + 1)], &ty);
        let mut mangled = bytes.clone();
        if !mangled.is_empty() {
            let i = flip.0.index(mangled.len());
            mangled[i] ^= flip.1;
        }
        let _ = decode_msgpack(&mangled, &ty);
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written vectors (bytes as cty writes them).

fn obj(kvs: &[(&str, Value)]) -> Value {
    Value::Object(
        kvs.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[test]
fn unknown_is_extension_zero() {
    assert_eq!(
        encode_msgpack(&Value::Unknown, &Type::String).unwrap(),
        vec![0xd4, 0, 0]
    );
    assert_eq!(
        decode_msgpack(&[0xd4, 0, 0], &Type::String).unwrap(),
        Value::Unknown
    );
    // A zero-length ext 0 and an unknown in a dynamic slot are unknown too.
    assert_eq!(
        decode_msgpack(&[0xc7, 0, 0], &Type::Number).unwrap(),
        Value::Unknown
    );
    assert_eq!(
        decode_msgpack(&[0xd4, 0, 0], &Type::Dynamic).unwrap(),
        Value::Unknown
    );
}

#[test]
fn refined_unknown_is_unknown() {
    // ext8, 3 bytes, type 12, payload {1: false} ("definitely not null").
    let bytes = [0xc7, 3, 12, 0x81, 0x01, 0xc2];
    assert_eq!(
        decode_msgpack(&bytes, &Type::String).unwrap(),
        Value::Unknown
    );
    // Inside an object, with a string prefix refinement {2: "ab"}.
    let mut o = vec![0x81, 0xa1, b'a', 0xc7, 5, 12, 0x81, 0x02, 0xa2, b'a', b'b'];
    let ty = Type::object([("a", Type::String)]);
    assert_eq!(
        decode_msgpack(&o, &ty).unwrap(),
        obj(&[("a", Value::Unknown)])
    );
    o[5] = 7; // some other extension type
    let err = decode_msgpack(&o, &ty).unwrap_err();
    assert_eq!(err.path, AttrPath::attr("a"));
}

#[test]
fn nested_null() {
    let ty = Type::object([
        ("a", Type::String),
        ("b", Type::list(Type::Number)),
        ("c", Type::object([("d", Type::Bool)])),
    ]);
    let v = obj(&[
        ("a", Value::Null),
        ("b", Value::List(vec![Value::Null, Value::int(1)])),
        ("c", obj(&[("d", Value::Null)])),
    ]);
    let bytes = encode_msgpack(&v, &ty).unwrap();
    assert_eq!(
        bytes,
        vec![
            0x83, 0xa1, b'a', 0xc0, 0xa1, b'b', 0x92, 0xc0, 0x01, 0xa1, b'c', 0x81, 0xa1, b'd',
            0xc0
        ]
    );
    assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), v);
    assert_eq!(decode_msgpack(&[0xc0], &ty).unwrap(), Value::Null);
}

#[test]
fn object_attributes_sorted_and_missing_ones_null() {
    let ty = Type::object([("b", Type::String), ("a", Type::String)]);
    let v = obj(&[("b", Value::string("x"))]);
    let bytes = encode_msgpack(&v, &ty).unwrap();
    assert_eq!(bytes, vec![0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xa1, b'x']);
    // An attribute the type lacks is an error that names it.
    let bad = obj(&[("zzz", Value::string("x"))]);
    let err = encode_msgpack(&bad, &ty).unwrap_err();
    assert_eq!(err.path, AttrPath::attr("zzz"));
}

#[test]
fn numbers_in_every_encoding() {
    let n = |bytes: &[u8]| decode_msgpack(bytes, &Type::Number).unwrap();
    assert_eq!(n(&[0x05]), Value::int(5));
    assert_eq!(n(&[0xff]), Value::int(-1));
    assert_eq!(n(&[0xcc, 200]), Value::int(200));
    assert_eq!(n(&[0xd0, 0x80]), Value::int(-128));
    assert_eq!(n(&[0xcd, 0x01, 0x00]), Value::int(256));
    assert_eq!(
        n(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Value::Number(Number::Float(u64::MAX as f64))
    );
    assert_eq!(
        n(&[0xca, 0x3f, 0xc0, 0, 0]),
        Value::Number(Number::Float(1.5))
    );
    let mut f64bytes = vec![0xcb];
    f64bytes.extend_from_slice(&0.25f64.to_be_bytes());
    assert_eq!(n(&f64bytes), Value::Number(Number::Float(0.25)));
    // Big numbers arrive as strings.
    let mut s = vec![0xb4];
    s.extend_from_slice(b"12345678901234567890");
    assert_eq!(n(&s), Value::Number(Number::Float(12345678901234567890.0)));
    assert_eq!(n(&[0xa2, b'4', b'2']), Value::int(42));
    let err = decode_msgpack(&[0xa2, b'x', b'y'], &Type::Number).unwrap_err();
    assert!(err.message.contains("\"xy\""), "{err}");
    // Integers are written compactly.
    assert_eq!(
        encode_msgpack(&Value::int(1), &Type::Number).unwrap(),
        vec![0x01]
    );
    assert_eq!(
        encode_msgpack(&Value::int(-33), &Type::Number).unwrap(),
        vec![0xd0, 0xdf]
    );
}

#[test]
fn dynamic_is_type_value_pair() {
    let v = Value::string("hi");
    let bytes = encode_msgpack(&v, &Type::Dynamic).unwrap();
    let mut want = vec![0x92, 0xc4, 8];
    want.extend_from_slice(b"\"string\"");
    want.extend_from_slice(&[0xa2, b'h', b'i']);
    assert_eq!(bytes, want);
    assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), v);

    // The type as msgpack str instead of bin is accepted too.
    let mut as_str = vec![0x92, 0xb1];
    as_str.extend_from_slice(b"[\"list\",\"number\"]");
    as_str.extend_from_slice(&[0x91, 0x07]);
    assert_eq!(
        decode_msgpack(&as_str, &Type::Dynamic).unwrap(),
        Value::List(vec![Value::int(7)])
    );
    // A pair whose value is missing is an error.
    assert!(decode_msgpack(&as_str[..as_str.len() - 2], &Type::Dynamic).is_err());

    // A list whose elements disagree cannot be given one type.
    let mixed = Value::List(vec![Value::int(1), Value::string("a")]);
    let err = encode_msgpack(&mixed, &Type::Dynamic).unwrap_err();
    assert_eq!(err.path, AttrPath(vec![PathStep::Index(1)]));
    // ...but nulls unify with anything.
    let ok = Value::List(vec![
        obj(&[("a", Value::Null)]),
        obj(&[("a", Value::string("x"))]),
    ]);
    let bytes = encode_msgpack(&ok, &Type::Dynamic).unwrap();
    assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), ok);
}

#[test]
fn errors_name_the_path() {
    let ty = Type::object([
        ("ports", Type::list(Type::object([("port", Type::Number)]))),
        ("env", Type::map(Type::String)),
    ]);
    let v = obj(&[
        ("env", Value::Map(BTreeMap::new())),
        (
            "ports",
            Value::List(vec![
                obj(&[("port", Value::int(80))]),
                obj(&[("port", Value::string("http"))]),
            ]),
        ),
    ]);
    let err = encode_msgpack(&v, &ty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ports[1].port: expected number, got a string"
    );

    // Decoding the same mistake.
    let ty_str = Type::object([
        ("ports", Type::list(Type::object([("port", Type::String)]))),
        ("env", Type::map(Type::String)),
    ]);
    let as_strings = obj(&[(
        "ports",
        Value::List(vec![
            obj(&[("port", Value::string("80"))]),
            obj(&[("port", Value::string("http"))]),
        ]),
    )]);
    let bytes = encode_msgpack(&as_strings, &ty_str).unwrap();
    let err = decode_msgpack(&bytes, &ty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ports[1].port: expected a number, found the string \"http\""
    );

    let v = obj(&[("env", Value::Map([("K".into(), Value::int(1))].into()))]);
    let bytes = encode_msgpack(&v, &Type::object([("env", Type::map(Type::Number))])).unwrap();
    let err = decode_msgpack(&bytes, &Type::object([("env", Type::map(Type::Bool))])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "env[\"K\"]: expected a bool, found a number"
    );
}

#[test]
fn truncated_and_trailing_data_are_errors() {
    let ty = Type::list(Type::String);
    let bytes = encode_msgpack(&Value::List(vec![Value::string("abc")]), &ty).unwrap();
    for cut in 0..bytes.len() {
        assert!(decode_msgpack(&bytes[..cut], &ty).is_err(), "cut at {cut}");
    }
    let mut extra = bytes.clone();
    extra.push(0xc0);
    assert!(decode_msgpack(&extra, &ty).is_err());
    // A huge claimed length with no data behind it.
    assert!(decode_msgpack(&[0xdd, 0xff, 0xff, 0xff, 0xff], &ty).is_err());
}

#[test]
fn json_state_decoding() {
    let ty = Type::object([
        ("name", Type::String),
        ("replicas", Type::Number),
        ("env", Type::map(Type::String)),
        ("ports", Type::list(Type::object([("port", Type::Number)]))),
    ]);
    let raw = json!({
        "name": "web",
        "replicas": 2,
        "ports": [{"port": 80}],
        "removed_in_v2": true
    });
    // Strict decoding rejects the unknown attribute, by name.
    let err = decode_json(&raw, &ty).unwrap_err();
    assert_eq!(err.path, AttrPath::attr("removed_in_v2"));
    // Lenient decoding drops it; missing attributes are null.
    let v = decode_json_lenient(&raw, &ty).unwrap();
    assert_eq!(
        v,
        obj(&[
            ("name", Value::string("web")),
            ("replicas", Value::int(2)),
            ("env", Value::Null),
            ("ports", Value::List(vec![obj(&[("port", Value::int(80))])])),
        ])
    );
    // Nested unknown attributes are dropped too.
    let raw = json!({"ports": [{"port": "8080", "old": 1}]});
    let v = decode_json_lenient(&raw, &ty).unwrap();
    assert_eq!(
        v.get("ports"),
        Some(&Value::List(vec![obj(&[("port", Value::int(8080))])]))
    );
    // Type errors still name the path.
    let err = decode_json_lenient(&json!({"ports": [{"port": true}]}), &ty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ports[0].port: expected a number, found a bool"
    );
}

#[test]
fn json_dynamic_and_unknown() {
    let v = Value::List(vec![Value::int(1)]);
    let j = encode_json(&v, &Type::Dynamic).unwrap();
    assert_eq!(j, json!({"value": [1], "type": ["list", "number"]}));
    assert_eq!(decode_json(&j, &Type::Dynamic).unwrap(), v);
    let err = encode_json(
        &obj(&[("a", Value::Unknown)]),
        &Type::object([("a", Type::String)]),
    )
    .unwrap_err();
    assert_eq!(err.path, AttrPath::attr("a"));
}

#[test]
fn type_json_round_trip() {
    let ty = Type::object([
        ("a", Type::list(Type::set(Type::map(Type::Dynamic)))),
        ("b", Type::Tuple(vec![Type::Bool, Type::Number])),
    ]);
    assert_eq!(Type::from_json(&ty.to_json()).unwrap(), ty);
    // Object type constraints with optional attributes read as plain objects.
    assert_eq!(
        Type::from_json(&json!(["object", {"a": "string"}, ["a"]])).unwrap(),
        Type::object([("a", Type::String)])
    );
    assert!(Type::from_json(&json!(["lisst", "string"])).is_err());
    assert!(Type::from_json(&json!(["list"])).is_err());
    assert!(Type::from_json(&json!(42)).is_err());
}
