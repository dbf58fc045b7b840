//! The msgpack value decoder (DynamicValue.msgpack: every config, plan and state Terraform
//! sends), against the type of every real schema; what decodes is encoded and decoded again.
#![no_main]

use jke_fuzz::value_types;
use libfuzzer_sys::fuzz_target;
use terraform_provider_jke::plugin::codec::{decode_msgpack, encode_msgpack};

fuzz_target!(|data: &[u8]| {
    for ty in value_types() {
        if let Ok(v) = decode_msgpack(data, ty)
            && let Ok(bytes) = encode_msgpack(&v, ty)
        {
            let _ = decode_msgpack(&bytes, ty);
        }
    }
});
