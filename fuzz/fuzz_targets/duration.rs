//! Durations as Go writes them ("90s", "1h30m", "1.5h", "300ms").
#![no_main]

use libfuzzer_sys::fuzz_target;
use terraform_provider_jke::app::formats::parse_duration;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_duration(s);
    }
});
