//! Reading Meta's JSON leniently: a field of the wrong type is absent, ids written as
//! numbers are read as strings, timestamps as strings or numbers.

use super::payload::WaError;
use serde_json::{Map, Value};

pub(super) fn errors_of(m: &Map<String, Value>) -> Vec<WaError> {
    m.get("errors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .filter_map(Value::as_object)
                .map(|e| WaError {
                    code: e.get("code").and_then(Value::as_i64),
                    title: string_of(e, "title"),
                    message: string_of(e, "message"),
                    details: e
                        .get("error_data")
                        .and_then(Value::as_object)
                        .and_then(|d| string_of(d, "details")),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn str_of<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    m.get(name).and_then(Value::as_str)
}

pub(super) fn string_of(m: &Map<String, Value>, name: &str) -> Option<String> {
    str_of(m, name).map(str::to_string)
}

/// A string, or a number written as one (ids are strings in Meta's docs, but a client
/// that builds them by hand may send numbers).
pub(super) fn scalar_of(m: &Map<String, Value>, name: &str) -> Option<String> {
    match m.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn seconds_of(m: &Map<String, Value>, name: &str) -> Option<i64> {
    match m.get(name)? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

pub(super) fn number_of(m: &Map<String, Value>, name: &str) -> Option<f64> {
    match m.get(name)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
