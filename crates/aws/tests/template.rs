//! `template.yaml` repeats limits the code holds: these hold it to them, so a change on
//! one side only fails here rather than in production.

use pitchside_domain::limits::MAX_RECEIVES;

fn template() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    std::fs::read_to_string(path).expect("template.yaml beside the workspace")
}

/// The values of every `key: value` line of the template with this key.
fn values_of(key: &str) -> Vec<String> {
    template()
        .lines()
        .filter_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .collect()
}

#[test]
fn the_dead_letter_queue_takes_messages_after_the_receives_the_code_counts() {
    assert_eq!(values_of("maxReceiveCount"), vec![MAX_RECEIVES.to_string()]);
}
