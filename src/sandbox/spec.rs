//! Zoom's request schemas, checked on every Zoom request the sandbox serves.
//!
//! `zoom_requests.json` holds, for each operation the sandbox serves that a published spec
//! describes, the query parameters and the request body schema exactly as the spec states them
//! (descriptions and examples dropped, `$ref`s inlined). It is extracted by [`extract`] from the
//! specs in `../shared/specs/zoom/`; the conformance test extracts it again from those files and
//! fails when the embedded copy differs, so the sandbox cannot drift from the spec. The binary
//! carries the subset because an installed `vline` has no spec files beside it.
//!
//! Checked: `type`, `required`, `enum`, `properties`, `items`, `oneOf`/`anyOf`/`allOf`,
//! `minLength`/`maxLength`, `minItems`/`maxItems`, `minimum`/`maximum` (bodies only: Zoom caps a
//! query's `page_size` instead of refusing it); in strict mode also fields
//! the spec does not name. Not checked: `pattern` and `format` (the handlers check the MAC and the
//! dates they use) — a regex engine for one pattern is not worth its weight.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

/// The operations the sandbox serves that a spec describes: (method, path, spec file).
/// `phone` is `phone-raw-jnolan-ehl/ZoomPhoneAPISpec.json` (Zoom's download, enums kept),
/// `users` is `folio-sec-terraform-provider-zoom/ZoomUserAPISpec.json`.
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    ("GET", "/phone/numbers", "phone"),
    ("GET", "/phone/numbers/{phoneNumberId}", "phone"),
    ("POST", "/phone/users/{userId}/phone_numbers", "phone"),
    (
        "DELETE",
        "/phone/users/{userId}/phone_numbers/{phoneNumberId}",
        "phone",
    ),
    ("GET", "/users", "users"),
    ("POST", "/users", "users"),
    ("GET", "/users/{userId}", "users"),
    ("PATCH", "/users/{userId}/settings", "users"),
    ("GET", "/phone/users", "phone"),
    ("POST", "/phone/users/batch", "phone"),
    ("GET", "/phone/users/{userId}", "phone"),
    ("PATCH", "/phone/users/{userId}", "phone"),
    ("GET", "/phone/sites", "phone"),
    ("GET", "/phone/sites/{siteId}", "phone"),
    ("GET", "/phone/calling_plans", "phone"),
    ("POST", "/phone/users/{userId}/calling_plans", "phone"),
    (
        "DELETE",
        "/phone/users/{userId}/calling_plans/{planType}",
        "phone",
    ),
    ("GET", "/phone/roles", "phone"),
    ("GET", "/phone/roles/{roleId}/members", "phone"),
    ("POST", "/phone/roles/{roleId}/members", "phone"),
    ("GET", "/phone/devices", "phone"),
    ("POST", "/phone/devices", "phone"),
    ("POST", "/phone/devices/{deviceId}/extensions", "phone"),
    ("GET", "/phone/peering/numbers", "phone"),
    ("POST", "/phone/peering/numbers", "phone"),
    ("DELETE", "/phone/peering/numbers", "phone"),
    ("GET", "/phone/call_history", "phone"),
    ("GET", "/phone/reports/call_charges", "phone"),
];

/// Query parameters the spec does not name but that strict mode lets through, and why.
/// The guide checks a number with `type=unassigned&phone_number=…` (DESIGN.md): the client sends
/// it and never depends on it.
pub const EXTENSIONS: &[(&str, &str, &str)] = &[("GET", "/phone/numbers", "phone_number")];

/// Schema keywords kept by [`extract`]; everything else (descriptions, examples) is dropped.
const KEEP: &[&str] = &[
    "type",
    "required",
    "properties",
    "items",
    "enum",
    "oneOf",
    "anyOf",
    "allOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "additionalProperties",
    "nullable",
];

/// A schema with `$ref`s inlined (against `doc`) and only validation keywords kept.
pub fn resolve(doc: &Value, schema: &Value) -> Value {
    resolve_depth(doc, schema, 0)
}

fn resolve_depth(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 40 {
        return json!({});
    }
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(doc, |v, k| &v[k]))
            .unwrap_or(&Value::Null);
        return resolve_depth(doc, target, depth + 1);
    }
    let mut out = Map::new();
    for (k, v) in obj {
        if !KEEP.contains(&k.as_str()) {
            continue;
        }
        let v = match k.as_str() {
            "properties" => Value::Object(
                v.as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(n, s)| (n.clone(), resolve_depth(doc, s, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            "items" | "additionalProperties" if v.is_object() => resolve_depth(doc, v, depth + 1),
            "oneOf" | "anyOf" | "allOf" => Value::Array(
                v.as_array()
                    .map(|a| a.iter().map(|s| resolve_depth(doc, s, depth + 1)).collect())
                    .unwrap_or_default(),
            ),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// The request side of [`OPERATIONS`] from the two spec documents: `{ops: [{method, path, query:
/// [{name, required, schema}], body}]}`. An operation missing from its spec is an error.
pub fn extract(phone: &Value, users: &Value) -> Result<Value, String> {
    let mut ops = Vec::new();
    for (method, path, which) in OPERATIONS {
        let doc = if *which == "users" { users } else { phone };
        let op = &doc["paths"][*path][method.to_ascii_lowercase()];
        if !op.is_object() {
            return Err(format!("{method} {path} is not in the {which} spec"));
        }
        let query: Vec<Value> = op["parameters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|p| resolve_param(doc, p))
            .filter(|p| p["in"] == "query")
            .map(|p| {
                json!({"name": p["name"], "required": p["required"].as_bool().unwrap_or(false),
                       "schema": resolve(doc, &p["schema"])})
            })
            .collect();
        let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
        let body = if body.is_null() {
            Value::Null
        } else {
            resolve(doc, &body)
        };
        ops.push(json!({"method": method, "path": path, "query": query, "body": body}));
    }
    Ok(json!({ "ops": ops }))
}

fn resolve_param(doc: &Value, p: &Value) -> Value {
    match p.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|path| path.split('/').fold(doc, |v, k| &v[k]).clone())
            .unwrap_or(Value::Null),
        None => p.clone(),
    }
}

/// The embedded subset (`zoom_requests.json`).
pub const EMBEDDED: &str = include_str!("zoom_requests.json");

struct Op {
    method: String,
    path: String,
    segs: Vec<String>,
    query: Vec<(String, bool, Value)>,
    body: Value,
}

/// The request side of operations, as [`extract`] gives it, ready to check requests against.
pub struct Operations(Vec<Op>);

impl Operations {
    /// From [`extract`]'s JSON (the embedded copy, or one extracted afresh from the spec files).
    pub fn from_json(v: &Value) -> Operations {
        Operations(parse_ops(v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The spec's (method, path template) a request is for, if a spec describes it.
    pub fn operation(&self, method: &str, segs: &[&str]) -> Option<(&str, &str)> {
        find(&self.0, method, segs).map(|o| (o.method.as_str(), o.path.as_str()))
    }

    /// See [`check_request`].
    pub fn check(
        &self,
        method: &str,
        segs: &[&str],
        query: &[(String, String)],
        body: &[u8],
        strict: bool,
    ) -> Result<(), String> {
        match find(&self.0, method, segs) {
            Some(op) => check_op(op, query, body, strict),
            None => Ok(()),
        }
    }
}

fn ops() -> &'static Operations {
    static OPS: OnceLock<Operations> = OnceLock::new();
    OPS.get_or_init(|| {
        let v: Value = serde_json::from_str(EMBEDDED).unwrap_or(Value::Null);
        Operations::from_json(&v)
    })
}

fn parse_ops(v: &Value) -> Vec<Op> {
    {
        v["ops"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|o| Op {
                method: o["method"].as_str().unwrap_or("").to_string(),
                path: o["path"].as_str().unwrap_or("").to_string(),
                segs: o["path"]
                    .as_str()
                    .unwrap_or("")
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                query: o["query"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|q| {
                        (
                            q["name"].as_str().unwrap_or("").to_string(),
                            q["required"].as_bool().unwrap_or(false),
                            q["schema"].clone(),
                        )
                    })
                    .collect(),
                body: o["body"].clone(),
            })
            .collect()
    }
}

/// The spec's operation for a request: same method, same segment count, literal segments equal;
/// the most literal match wins (`/phone/users/batch` over `/phone/users/{userId}`).
fn find<'a>(ops: &'a [Op], method: &str, segs: &[&str]) -> Option<&'a Op> {
    ops.iter()
        .filter(|o| o.method == method && o.segs.len() == segs.len())
        .filter(|o| {
            o.segs
                .iter()
                .zip(segs)
                .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|o| o.segs.iter().filter(|t| !t.starts_with('{')).count())
}

/// Check a request's query and JSON body against its operation's schemas. `Err` is the message
/// of Zoom's 400 `{code: 300}`, naming the field. Operations no spec describes pass unchecked.
pub fn check_request(
    method: &str,
    segs: &[&str],
    query: &[(String, String)],
    body: &[u8],
    strict: bool,
) -> Result<(), String> {
    ops().check(method, segs, query, body, strict)
}

fn check_op(op: &Op, query: &[(String, String)], body: &[u8], strict: bool) -> Result<(), String> {
    let fail = |m: String| Err(format!("Validation Failed: {m}"));
    // Query: every name the spec gives, typed; in strict mode no other name.
    for (name, _) in query {
        let base = name.strip_suffix("[]").unwrap_or(name);
        let known = op.query.iter().any(|(n, _, _)| n == base)
            || EXTENSIONS
                .iter()
                .any(|(m, p, n)| *m == op.method && *p == op.path && *n == base);
        if strict && !known {
            return fail(format!(
                "query parameter {base} is not a parameter of {} {}.",
                op.method, op.path
            ));
        }
    }
    for (name, required, schema) in &op.query {
        let values: Vec<&str> = query
            .iter()
            .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .map(|(_, v)| v.as_str())
            .collect();
        if values.is_empty() {
            if *required {
                return fail(format!("query parameter {name} is required."));
            }
            continue;
        }
        let value = query_value(schema, &values);
        // Zoom caps a page_size above the maximum rather than refusing it: bounds are not
        // checked on query parameters.
        let mut schema = schema.clone();
        if let Some(o) = schema.as_object_mut() {
            o.remove("maximum");
            o.remove("minimum");
        }
        if let Err(m) = validate(&schema, &value, &format!("query parameter {name}"), strict) {
            return fail(m);
        }
    }
    // Body.
    let empty = body.iter().all(u8::is_ascii_whitespace);
    if op.body.is_null() {
        if strict && !empty {
            return fail(format!("{} {} takes no request body.", op.method, op.path));
        }
        return Ok(());
    }
    if empty {
        let needs = op.body["required"]
            .as_array()
            .is_some_and(|r| !r.is_empty());
        return if needs {
            fail("a request body is required.".into())
        } else {
            Ok(())
        };
    }
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return fail(format!("request body is not valid JSON: {e}.")),
    };
    validate(&op.body, &v, "", strict).or_else(fail)
}

/// A query value as JSON, typed by its schema (Zoom takes arrays repeated or comma-separated).
fn query_value(schema: &Value, values: &[&str]) -> Value {
    let scalar = |s: &Value, raw: &str| -> Value {
        match s["type"].as_str() {
            Some("integer") => raw
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(raw)),
            Some("number") => raw
                .trim()
                .parse::<f64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(raw)),
            Some("boolean") => match raw.trim() {
                "true" => json!(true),
                "false" => json!(false),
                _ => json!(raw),
            },
            _ => json!(raw),
        }
    };
    if schema["type"] == "array" {
        Value::Array(
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(|v| scalar(&schema["items"], v.trim()))
                .collect(),
        )
    } else {
        scalar(schema, values[0])
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

/// Validate `v` against `schema` (as [`resolve`] leaves it). `at` names the place (`""` for the
/// body itself, `users[0].email` below it); the error names it. `strict` refuses object fields the
/// schema does not name (only where it names some).
pub fn validate(schema: &Value, v: &Value, at: &str, strict: bool) -> Result<(), String> {
    let here = if at.is_empty() { "the body" } else { at };
    if v.is_null() && schema["nullable"] == true {
        return Ok(());
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            validate(s, v, at, false)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema[key].as_array() {
            let mut first_err = None;
            let ok = any.iter().any(|s| match validate(s, v, at, strict) {
                Ok(()) => true,
                Err(e) => {
                    first_err.get_or_insert(e);
                    false
                }
            });
            if !ok {
                return Err(first_err.unwrap_or_else(|| format!("{here} matches no schema.")));
            }
        }
    }
    if let Some(t) = schema["type"].as_str() {
        let fits = match t {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => true,
        };
        if !fits {
            let a = if matches!(t, "integer" | "array" | "object") {
                "an"
            } else {
                "a"
            };
            return Err(format!("{here} must be {a} {t}, not {}.", type_name(v)));
        }
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(v) {
            let list: Vec<String> = options
                .iter()
                .map(|o| o.as_str().map(str::to_string).unwrap_or(o.to_string()))
                .collect();
            let got = v.as_str().map(str::to_string).unwrap_or(v.to_string());
            return Err(format!(
                "{here} must be one of {}; got '{got}'.",
                list.join(", ")
            ));
        }
    }
    match v {
        Value::String(s) => {
            let n = s.chars().count() as u64;
            if let Some(max) = schema["maxLength"].as_u64().filter(|m| n > *m) {
                return Err(format!("{here} is longer than {max} characters."));
            }
            if let Some(min) = schema["minLength"].as_u64().filter(|m| n < *m) {
                return Err(format!("{here} is shorter than {min} characters."));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(0.0);
            if let Some(max) = schema["maximum"].as_f64().filter(|m| x > *m) {
                return Err(format!("{here} must be at most {max}."));
            }
            if let Some(min) = schema["minimum"].as_f64().filter(|m| x < *m) {
                return Err(format!("{here} must be at least {min}."));
            }
        }
        Value::Array(items) => {
            if let Some(max) = schema["maxItems"]
                .as_u64()
                .filter(|m| items.len() as u64 > *m)
            {
                return Err(format!("{here} holds more than {max} items."));
            }
            if let Some(min) = schema["minItems"]
                .as_u64()
                .filter(|m| (items.len() as u64) < *m)
            {
                return Err(format!("{here} needs at least {min} items."));
            }
            if schema["items"].is_object() {
                for (i, item) in items.iter().enumerate() {
                    let place = if at.is_empty() {
                        format!("[{i}]")
                    } else {
                        format!("{at}[{i}]")
                    };
                    validate(&schema["items"], item, &place, strict)?;
                }
            }
        }
        Value::Object(fields) => {
            if let Some(req) = schema["required"].as_array() {
                for r in req.iter().filter_map(Value::as_str) {
                    if !fields.contains_key(r) {
                        return Err(format!("{} is required.", join(at, r)));
                    }
                }
            }
            let props = schema["properties"].as_object();
            for (name, fv) in fields {
                match props.and_then(|p| p.get(name)) {
                    Some(s) => validate(s, fv, &join(at, name), strict)?,
                    None => {
                        let named = props.is_some_and(|p| !p.is_empty());
                        if strict && named && schema["additionalProperties"] != true {
                            return Err(format!(
                                "{} is not a field of {here} in Zoom's API.",
                                join(at, name)
                            ));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(method: &str, path: &str, b: Value, strict: bool) -> Result<(), String> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        check_request(method, &segs, &[], b.to_string().as_bytes(), strict)
    }

    #[test]
    fn the_embedded_subset_parses_and_covers_every_operation() {
        assert_eq!(ops().len(), OPERATIONS.len());
    }

    #[test]
    fn required_types_enums_and_unknown_fields() {
        assert_eq!(
            body("POST", "/phone/devices/d1/extensions", json!({}), false),
            Err("Validation Failed: assignee_extension_ids is required.".into())
        );
        assert_eq!(
            body(
                "PATCH",
                "/phone/users/u1",
                json!({"extension_number": 1001}),
                false
            ),
            Err("Validation Failed: extension_number must be a string, not an integer.".into())
        );
        assert_eq!(
            body(
                "POST",
                "/phone/roles/r1/members",
                json!({"members": [{"id": "u1"}]}),
                true
            ),
            Err("Validation Failed: members is not a field of the body in Zoom's API.".into())
        );
        assert!(body(
            "POST",
            "/phone/roles/r1/members",
            json!({"members": [{"id": "u1"}]}),
            false
        )
        .is_ok());
        let q = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(
            check_request("GET", &["phone", "devices"], &q("type", "all"), b"", true),
            Err("Validation Failed: query parameter type must be one of assigned, unassigned; got 'all'.".into())
        );
        assert_eq!(
            check_request("GET", &["phone", "devices"], &[], b"", false),
            Err("Validation Failed: query parameter type is required.".into())
        );
        assert!(check_request(
            "GET",
            &["phone", "numbers"],
            &q("phone_number", "+13126170001"),
            b"",
            true
        )
        .is_ok());
    }
}
