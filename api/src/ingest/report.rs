//! What the analytics families (IPC cameras, edge boxes, analysis servers)
//! share once a body is read: lenient JSON and base64, and the images a
//! report carries, stored in the blob store before the report is written.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use footfall_domain::TenantId;
use footfall_domain::camera::CameraReport;
use serde_json::Value;

use super::lenient::Fields;
use crate::services::ingest::IngestError;
use crate::state::AppState;

/// A JSON object body's fields and those of its `param` object (where IPC
/// cameras put everything but the method; the top level when absent).
pub struct Body {
    pub top: Fields,
    pub param: Fields,
    pub raw: Value,
}

pub fn json_body(bytes: &[u8]) -> Result<Body, String> {
    let raw = json_value(bytes)?;
    let Value::Object(map) = &raw else {
        return Err("body is JSON but not an object".into());
    };
    let top = Fields::from_map(map.clone());
    let param = match top.get("param") {
        Some(Value::Object(p)) => Fields::from_map(p.clone()),
        Some(_) => return Err("param is not an object".into()),
        None => top.clone(),
    };
    Ok(Body { top, param, raw })
}

/// Any JSON value (an analysis server may send an array).
pub fn json_value(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "body is not UTF-8 text".to_string())?;
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err("empty body".into());
    }
    serde_json::from_str(text).map_err(|e| format!("body is not valid JSON: {e}"))
}

/// Base64 as devices write it: padded or not, maybe a `data:` URL, maybe
/// wrapped over lines.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let s = s.trim();
    let s = match s.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map_or(rest, |(_, data)| data),
        None => s,
    };
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    LENIENT.decode(compact).ok().filter(|b| !b.is_empty())
}

/// What a body decodes to before its images are stored.
#[derive(Debug, Default)]
pub struct Decoded {
    pub report: CameraReport,
    /// Images by event index: the main image, and a target cut-out.
    pub images: Vec<(usize, Image)>,
}

#[derive(Debug)]
pub enum Image {
    Main(Vec<u8>),
    Cutout(Vec<u8>),
}

/// Writes the decoded images to the blob store and points their events at
/// them (`image_key`, or `attributes.cutoutImageKey`).
pub async fn store_images(state: &AppState, tenant: TenantId, decoded: &mut Decoded) -> Result<(), IngestError> {
    for (index, image) in decoded.images.drain(..) {
        let (bytes, cutout) = match &image {
            Image::Main(b) => (b, false),
            Image::Cutout(b) => (b, true),
        };
        let key = state.blobs.put(tenant, bytes).await.map_err(|e| {
            crate::error::log_failure(&e);
            IngestError::Unavailable
        })?;
        if let Some(event) = decoded.report.events.get_mut(index) {
            if cutout {
                event.attributes.insert("cutoutImageKey".into(), Value::String(key));
            } else {
                event.image_key = Some(key);
            }
        }
    }
    Ok(())
}

/// The keys that hold base64 images in the families' bodies (lower case).
pub const IMAGE_KEYS: &[&str] = &[
    "jpeg_base64",
    "jpegbase64",
    "bg",
    "img",
    "avatar",
    "imgbase64",
    "imgbase64type",
];

/// Replaces long base64 images under `image_keys` with a note naming the
/// blob they went to, so the raw body kept for re-derivation stays small.
pub fn strip_images(value: &mut Value, keys: &[&str], image_keys: &[&str]) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let lower = k.to_ascii_lowercase();
                if image_keys.contains(&lower.as_str())
                    && let Value::String(s) = v
                    && s.len() > 64
                {
                    *v = Value::String(format!(
                        "[image of {} base64 characters in the blob store{}]",
                        s.len(),
                        keys.first().map(|k| format!(": {k}")).unwrap_or_default()
                    ));
                } else {
                    strip_images(v, keys, image_keys);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_images(v, keys, image_keys)),
        _ => {}
    }
}
