#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_regressions/checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::url(data));
