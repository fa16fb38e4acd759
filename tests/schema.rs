#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! `report --format json` has a JSON Schema generated from its types
//! (`schema/report.json`, kept equal to the types by this test; after a
//! change of the types, `PIN_UPDATE=1 cargo test --test schema` rewrites
//! it), and the reports of the shipped bundles are valid by it.

mod support;

use serde_json::Value;
use support::{root, run_in};

/// What in `value` the schema does not allow, each with its path.
fn errors(value: &Value, schema: &Value, defs: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return errors(value, &defs[name], defs, path, out);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let fits = branches.iter().any(|b| {
                let mut e = Vec::new();
                errors(value, b, defs, path, &mut e);
                e.is_empty()
            });
            if !fits {
                out.push(format!("{path}: fits none of {key}"));
            }
            return;
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |t: &str| match t {
            "null" => value.is_null(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            _ => true,
        };
        if !types.iter().any(|t| is(t)) {
            out.push(format!("{path}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(value) {
            out.push(format!("{path}: {value} is not one of {e:?}"));
        }
    }
    if let Some(obj) = value.as_object() {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let k = r.as_str().unwrap();
            if !obj.contains_key(k) {
                out.push(format!("{path}: no {k}"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                if let Some(v) = obj.get(k) {
                    errors(v, s, defs, &format!("{path}.{k}"), out);
                }
            }
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), value.as_array()) {
        for (i, v) in a.iter().enumerate() {
            errors(v, items, defs, &format!("{path}[{i}]"), out);
        }
    }
}

#[test]
fn the_schema_is_the_types_and_the_reports_fit_it() {
    let schema = reconstruct::findings::document_schema();
    let file = root().join("schema/report.json");
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("PIN_UPDATE").is_some() {
        std::fs::write(&file, &text).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "schema/report.json is not the types' schema");
    let defs = schema.get("$defs").cloned().unwrap_or_default();
    for (bundle, since, until) in [
        ("fixtures/inc-20251226-001", "2025-12-26T14:00:00Z", "2025-12-26T15:30:00Z"),
        ("fixtures/inc-20260302-003", "2026-03-02T13:50:00Z", "2026-03-02T14:30:00Z"),
        ("fixtures/layouts", "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
    ] {
        let o =
            run_in(&root(), &["report", "--format", "json", "--fixtures", bundle, "--since", since, "--until", until]);
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut e = Vec::new();
        errors(&doc, &schema, &defs, "$", &mut e);
        assert!(e.is_empty(), "{bundle}: {e:#?}");
    }
    // The check itself sees a missing field.
    let mut e = Vec::new();
    errors(&serde_json::json!({"incident": {}}), &schema, &defs, "$", &mut e);
    assert!(!e.is_empty());
}
