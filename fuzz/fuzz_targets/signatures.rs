//! Both signature checks on arbitrary headers and bodies: no panic, and a header
//! verifies only if it is the signature of that very body.

#![allow(clippy::disallowed_methods)] // a fuzz target may read the clock
#![no_main]

use libfuzzer_sys::fuzz_target;
use pitchside_domain::{stripe, whatsapp};

const SECRET: &[u8] = b"fuzz-secret";

fuzz_target!(|input: (&str, &[u8])| {
    let (header, body) = input;
    if whatsapp::verify_signature(SECRET, Some(header), body).is_ok() {
        // Hex digits in either case are the same signature.
        assert!(
            header
                .trim()
                .eq_ignore_ascii_case(&whatsapp::sign(SECRET, body))
        );
    }
    let now = chrono::Utc::now();
    if stripe::verify(SECRET, Some(header), body, now).is_ok() {
        assert!(header.contains("v1="));
    }
});
