//! Kubernetes quantities ("500m", "2Gi", "1e3"): parsing, the milli-unit value, and the
//! comparison of two spellings (the input split at its first newline).
#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_jke::app::quantity::{Quantity, same_quantity};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(q) = Quantity::parse(s) {
        let _ = q.millis();
    }
    let (a, b) = s.split_once('\n').unwrap_or((s, s));
    let _ = same_quantity(a, b);
});
