//! The WhatsApp notification parser, and the Stripe event reader, on arbitrary bytes:
//! whatever comes in is read or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pitchside_domain::{stripe, whatsapp};

fuzz_target!(|body: &[u8]| {
    if let Ok(n) = whatsapp::parse_notification(body) {
        for change in n.entries.iter().flat_map(|e| &e.changes) {
            if let Ok(v) = change.read() {
                for m in &v.messages {
                    assert!(!m.id.is_empty());
                    let sender = v.sender_of(m);
                    let _ = v.profile_name(&sender);
                }
            }
        }
    }
    let _ = stripe::parse_event(body);
});
