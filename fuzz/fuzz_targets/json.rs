//! The JSON value decoder (DynamicValue.json, and stored state given to UpgradeResourceState),
//! strict and lenient, against the type of every real schema; what decodes is encoded again.
#![no_main]

use jke_fuzz::value_types;
use libfuzzer_sys::fuzz_target;
use terraform_provider_jke::plugin::codec::{decode_json, decode_json_lenient, encode_json};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for ty in value_types() {
        for decode in [decode_json, decode_json_lenient] {
            if let Ok(v) = decode(&json, ty) {
                let _ = encode_json(&v, ty);
            }
        }
    }
});
