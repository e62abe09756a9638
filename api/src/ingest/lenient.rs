//! Liberal reading of device bodies (PROTOCOLS.md, general rules): JSON
//! whatever the `Content-Type`, or form encoding; keys matched without case
//! and with stray spaces trimmed; numbers accepted as strings.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The top-level fields of a device body.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// Lower-cased, trimmed key → (key as sent, value).
    by_key: HashMap<String, (String, Value)>,
}

/// Why a body could not be read at all.
pub fn parse_body(body: &[u8]) -> Result<Fields, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8 text".to_string())?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err("empty body".into());
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(map)) => Ok(Fields::from_map(map)),
        Ok(_) => Err("body is JSON but not an object".into()),
        Err(json_error) => {
            if !trimmed.starts_with(['{', '[']) && trimmed.contains('=') {
                Ok(Fields::from_form(trimmed))
            } else {
                Err(format!("body is not valid JSON: {json_error}"))
            }
        }
    }
}

/// Replaces NUL characters (JSON `\u0000`) in every string and key of
/// `value` with U+FFFD: no database text type stores NUL, and a device must
/// not be able to turn its report into a storage error.
pub fn scrub(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{fffd}"),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', "\u{fffd}"), v))
                    .collect();
            }
            map.values_mut().for_each(scrub);
        }
        _ => {}
    }
}

impl Fields {
    /// A device's fields, NUL characters replaced (see [`scrub`]).
    pub fn from_map(map: Map<String, Value>) -> Fields {
        Fields {
            by_key: map
                .into_iter()
                .map(|(k, mut v)| {
                    scrub(&mut v);
                    let k = k.trim().replace('\0', "\u{fffd}");
                    (k.to_ascii_lowercase(), (k, v))
                })
                .collect(),
        }
    }

    /// `a=1&b=[...]`: values that look like JSON arrays or objects are parsed.
    fn from_form(text: &str) -> Fields {
        let mut map = Map::new();
        for (k, v) in form_pairs(text) {
            let value = if v.starts_with(['[', '{']) {
                serde_json::from_str(&v).unwrap_or(Value::String(v))
            } else {
                Value::String(v)
            };
            map.insert(k, value);
        }
        Fields::from_map(map)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.by_key.get(name).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    /// Every field, with its key as sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.by_key.values().map(|(k, v)| (k.as_str(), v))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The first present of `names`, as text (numbers are turned into text).
    pub fn text(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| match self.get(n)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    /// The first present of `names` as an integer. Present but not a number
    /// is an error naming the field.
    pub fn int(&self, names: &[&str]) -> Result<Option<i64>, String> {
        for name in names {
            if let Some(v) = self.get(name) {
                return as_int(v)
                    .map(Some)
                    .ok_or_else(|| format!("{name} is not a number: {v}"));
            }
        }
        Ok(None)
    }

    /// A non-negative count; absent counts as zero.
    pub fn count(&self, name: &str) -> Result<u64, String> {
        match self.int(&[name])? {
            None => Ok(0),
            Some(v) => u64::try_from(v).map_err(|_| format!("{name} must not be negative, got {v}")),
        }
    }

    pub fn array(&self, name: &str) -> Option<&Vec<Value>> {
        self.get(name).and_then(Value::as_array)
    }

    /// Every field except `skip` (lower-case names), with the key as sent and
    /// the value as text: what a device reports about itself.
    pub fn extras(&self, skip: &[&str]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .by_key
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .filter_map(|(_, (key, v))| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => return None,
                    other => other.to_string(),
                };
                Some((key.clone(), text.chars().take(256).collect()))
            })
            .take(64)
            .collect();
        out.sort();
        out
    }
}

/// An integer from a JSON number (fractions rounded) or a numeric string.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.is_finite() && f.abs() < 9.0e18).then(|| f.round() as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                let f: f64 = s.parse().ok()?;
                (f.is_finite() && f.abs() < 9.0e18).then(|| f.round() as i64)
            })
        }
        _ => None,
    }
}

/// Splits `application/x-www-form-urlencoded` text into decoded pairs.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_sloppy_keys_and_string_numbers() {
        let f = parse_body(br#"{" sn ":" 2010010000000000","Time":"1641434640","len":"2","x":1.6}"#).unwrap();
        assert_eq!(f.text(&["sn"]).unwrap(), " 2010010000000000");
        assert_eq!(f.int(&["time"]).unwrap(), Some(1_641_434_640));
        assert_eq!(f.int(&["len"]).unwrap(), Some(2));
        assert_eq!(f.int(&["x"]).unwrap(), Some(2));
        assert_eq!(f.int(&["missing"]).unwrap(), None);
        assert!(f.int(&["sn"]).is_ok(), "a numeric string is a number");
    }

    #[test]
    fn form_bodies() {
        let f = parse_body(b"sn=2010010000000000&time=1641434640&eventList=%5B%7B%22id%22%3A1%7D%5D&name=a+b").unwrap();
        assert_eq!(f.text(&["sn"]).unwrap(), "2010010000000000");
        assert_eq!(f.int(&["time"]).unwrap(), Some(1_641_434_640));
        assert_eq!(f.array("eventlist").unwrap().len(), 1);
        assert_eq!(f.text(&["name"]).unwrap(), "a b");
    }

    #[test]
    fn unreadable_bodies() {
        for body in [&b""[..], b"   ", b"{\"sn\": ", b"[1,2]", b"\xff\xfe", b"just text"] {
            assert!(parse_body(body).is_err(), "{body:?}");
        }
        let f = parse_body(br#"{"in": -3, "out": "x"}"#).unwrap();
        assert!(f.count("in").is_err());
        assert!(f.count("out").is_err());
        assert_eq!(f.count("passby").unwrap(), 0);
    }

    #[test]
    fn percent_decoding_is_total() {
        assert_eq!(percent_decode("a%20b%"), "a b%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%41"), "A");
    }
}
