//! The IPC cameras' binary metadata (`tlv_report`, PROTOCOLS.md §2): two
//! layers of type–length–value records in network byte order. The outer
//! layer's types are four ASCII letters (`META`, `ALAM`, `AREA`); each outer
//! value is a run of inner records whose types are 32-bit tags.
//!
//! Decoding never reads past the input: a length that runs past the end is
//! an error. Unknown outer sections and inner tags are kept as they are and
//! skipped by the interpretation.

use std::fmt;

/// Four ASCII letters naming an outer record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Section(pub [u8; 4]);

impl Section {
    pub const META: Section = Section(*b"META");
    pub const ALARM: Section = Section(*b"ALAM");
    pub const AREA: Section = Section(*b"AREA");
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// One inner record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    pub tag: u32,
    pub value: Vec<u8>,
}

/// One outer record with its inner records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    pub section: Section,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("{what} at byte {at} needs {needed} bytes, {left} left")]
    Truncated {
        what: &'static str,
        at: usize,
        needed: u64,
        left: usize,
    },
    #[error("empty body")]
    Empty,
}

/// A field the platform relies on whose value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{section} field 0x{tag:x} has {len} bytes; a number has 1, 2, 4 or 8")]
pub struct FieldError {
    pub section: Section,
    pub tag: u32,
    pub len: usize,
}

/// One raw record: its 4-byte type and its value.
type RawRecord<'a> = ([u8; 4], &'a [u8]);

/// Reads records of 4-byte type and 4-byte length from `bytes`.
fn records<'a>(bytes: &'a [u8], what: &'static str) -> Result<Vec<RawRecord<'a>>, TlvError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let left = bytes.len() - at;
        if left < 8 {
            return Err(TlvError::Truncated {
                what,
                at,
                needed: 8,
                left,
            });
        }
        let mut kind = [0u8; 4];
        kind.copy_from_slice(&bytes[at..at + 4]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[at + 4..at + 8]);
        let len = u32::from_be_bytes(len);
        let start = at + 8;
        let needed = u64::from(len);
        if needed > (bytes.len() - start) as u64 {
            return Err(TlvError::Truncated {
                what,
                at: start,
                needed,
                left: bytes.len() - start,
            });
        }
        let end = start + len as usize;
        out.push((kind, &bytes[start..end]));
        at = end;
    }
    Ok(out)
}

/// Decodes a whole `tlv_report` body.
pub fn decode(bytes: &[u8]) -> Result<Vec<Record>, TlvError> {
    if bytes.is_empty() {
        return Err(TlvError::Empty);
    }
    records(bytes, "outer record")?
        .into_iter()
        .map(|(kind, value)| {
            let fields = records(value, "inner record")?
                .into_iter()
                .map(|(tag, value)| Field {
                    tag: u32::from_be_bytes(tag),
                    value: value.to_vec(),
                })
                .collect();
            Ok(Record {
                section: Section(kind),
                fields,
            })
        })
        .collect()
}

/// Encodes records; `decode(&encode(r)) == r`. Used to build test bodies.
pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let mut inner = Vec::new();
        for f in &r.fields {
            inner.extend_from_slice(&f.tag.to_be_bytes());
            inner.extend_from_slice(&(f.value.len() as u32).to_be_bytes());
            inner.extend_from_slice(&f.value);
        }
        out.extend_from_slice(&r.section.0);
        out.extend_from_slice(&(inner.len() as u32).to_be_bytes());
        out.extend_from_slice(&inner);
    }
    out
}

/// Inner tags of the document's tables.
pub mod tag {
    pub const TARGET: u32 = 0x1;
    pub const AI_NAME: u32 = 0x2;
    pub const DEVICE_ID: u32 = 0x3;
    pub const CHANNEL_ID: u32 = 0x4;
    pub const PTS: u32 = 0x5;
    pub const PIC_SIZE: u32 = 0x6;
    pub const OBJ_RECT: u32 = 0x7;
    pub const OBJ_ID: u32 = 0x8;
    pub const OBJ_PIC: u32 = 0x9;
    pub const SNAPSHOT: u32 = 0xA;
    pub const OBJ_NAME: u32 = 0x10;
    pub const COUNT_IN: u32 = 0x40001;
    pub const COUNT_OUT: u32 = 0x40002;
    pub const COUNT_PASS: u32 = 0x40003;
    pub const COUNT_KEEP: u32 = 0x40004;
    pub const OCR_REGION_NUM: u32 = 0xa0001;
    pub const OCR_REGION_POINTS: u32 = 0xa0002;
    pub const OCR_REGION_NAME: u32 = 0xa0003;
    pub const OCR_TEXT: u32 = 0xa0004;
    pub const OCR_CONFIDENCE: u32 = 0xa0005;
    pub const OCR_EACH_CONFIDENCE: u32 = 0xa0006;
}

/// `MetaTarget_e` values that matter to the platform.
pub mod target {
    pub const FACE: u32 = 1;
    pub const CUSTOMER_COUNTER: u32 = 5;
    pub const CUSTOMER_COUNTER_BASIC: u32 = 8;
    pub const OCR: u32 = 15;

    /// The event kind a target names (`MetaTarget_e`).
    pub fn name(target: u32) -> Option<&'static str> {
        Some(match target {
            1 => "face",
            2 => "body",
            3 => "motor_vehicle",
            4 => "non_motor_vehicle",
            5 => "customer_counter",
            6 => "heat_map",
            7 => "hot_area",
            8 => "customer_counter_basic",
            9 => "hot_area_basic",
            10 => "external_sensor",
            11 => "common",
            13 => "queue_length",
            14 => "license_plate",
            15 => "ocr",
            16 => "customer_group",
            _ => return None,
        })
    }
}

/// A readable value of a field, for events' attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Text(String),
    /// Binary data, kept apart (an image) or summarised by its length.
    Bytes(usize),
}

/// What a metadata record means to the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metadata {
    /// People counting: in, out, pass-by, and people in the area now.
    CustomerCount {
        target: u32,
        device_id: Option<String>,
        channel: Option<u32>,
        /// Milliseconds of the camera's local wall clock (not UTC).
        local_ms: Option<i64>,
        r#in: u32,
        out: u32,
        pass: u32,
        keep: Option<u32>,
    },
    /// Anything else (faces, OCR, plates, ...): an event with attributes.
    Event {
        section: Section,
        target: Option<u32>,
        device_id: Option<String>,
        channel: Option<u32>,
        local_ms: Option<i64>,
        /// Known fields by name; unknown tags are left out.
        attributes: Vec<(&'static str, Value)>,
        /// The panoramic snapshot (`SNAPSHOT`), a JPEG, if sent.
        snapshot: Option<Vec<u8>>,
        /// The cut-out of the target (`OBJ_PIC`), if sent.
        object_picture: Option<Vec<u8>>,
    },
    /// A section the platform does not read; kept in the raw body only.
    Other { section: Section },
}

fn uint(value: &[u8]) -> Option<u64> {
    match value.len() {
        1 => Some(u64::from(value[0])),
        2 => Some(u64::from(u16::from_be_bytes([value[0], value[1]]))),
        4 => Some(u64::from(u32::from_be_bytes([value[0], value[1], value[2], value[3]]))),
        8 => Some(u64::from_be_bytes([
            value[0], value[1], value[2], value[3], value[4], value[5], value[6], value[7],
        ])),
        _ => None,
    }
}

/// A text field: trailing NUL padding dropped, any other NUL replaced
/// (no database text type stores it).
fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .trim_end_matches('\0')
        .trim()
        .replace('\0', "\u{fffd}")
}

/// The name of an inner tag the platform keeps as an event attribute.
fn attribute_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        tag::AI_NAME => "aiName",
        tag::PIC_SIZE => "pictureSize",
        tag::OBJ_RECT => "objectRect",
        tag::OBJ_ID => "objectId",
        tag::OBJ_NAME => "objectName",
        0x10001 => "faceInfo",
        0x10002 => "gender",
        0x10003 => "ageGroup",
        0x10004 => "mask",
        0x10005 => "expression",
        0x10006 => "hat",
        0x10007 => "beard",
        0x10008 => "hair",
        0x10009 => "glasses",
        0x1000A => "faceFeature",
        0x1000B => "similarity",
        0x1000C => "liveness",
        0x1000D => "faceId",
        0x1000F => "temperatureCentiC",
        tag::OCR_REGION_NUM => "ocrRegions",
        tag::OCR_REGION_POINTS => "ocrRegionPoints",
        tag::OCR_REGION_NAME => "ocrRegionName",
        tag::OCR_TEXT => "ocrText",
        tag::OCR_CONFIDENCE => "ocrConfidence",
        tag::OCR_EACH_CONFIDENCE => "ocrCharConfidence",
        _ => return None,
    })
}

/// How an attribute's value reads.
fn attribute_value(tag: u32, value: &[u8]) -> Value {
    match tag {
        tag::AI_NAME | tag::OBJ_NAME | tag::OCR_REGION_NAME | tag::OCR_TEXT => Value::Text(text(value)),
        tag::PIC_SIZE if value.len() == 4 => Value::Text(format!(
            "{}x{}",
            u16::from_be_bytes([value[0], value[1]]),
            u16::from_be_bytes([value[2], value[3]])
        )),
        tag::OBJ_RECT | tag::OCR_REGION_POINTS | 0x1000A | 0x1000D | tag::OCR_EACH_CONFIDENCE => {
            Value::Bytes(value.len())
        }
        _ => match uint(value) {
            Some(v) => Value::Int(i64::try_from(v).unwrap_or(i64::MAX)),
            None => Value::Bytes(value.len()),
        },
    }
}

impl Record {
    fn field(&self, tag: u32) -> Option<&[u8]> {
        self.fields.iter().find(|f| f.tag == tag).map(|f| f.value.as_slice())
    }

    /// A number field: absent, or read; present but unreadable (a width
    /// other than 1, 2, 4, 8 bytes, or too large) is an error.
    fn number<T: TryFrom<u64>>(&self, tag: u32) -> Result<Option<T>, FieldError> {
        let Some(value) = self.field(tag) else {
            return Ok(None);
        };
        let error = || FieldError {
            section: self.section,
            tag,
            len: value.len(),
        };
        let n = uint(value).ok_or_else(error)?;
        T::try_from(n).map(Some).map_err(|_| error())
    }

    /// What the record means: a people count, an event, or a section the
    /// platform does not read. The fields counts and times rest on (target,
    /// channel, PTS, the counters) must be readable numbers when present.
    pub fn interpret(&self) -> Result<Metadata, FieldError> {
        if ![Section::META, Section::ALARM, Section::AREA].contains(&self.section) {
            return Ok(Metadata::Other { section: self.section });
        }
        let target: Option<u32> = self.number(tag::TARGET)?;
        let device_id = self.field(tag::DEVICE_ID).map(text).filter(|s| !s.is_empty());
        let channel: Option<u32> = self.number(tag::CHANNEL_ID)?;
        let local_ms: Option<i64> = self.number(tag::PTS)?;
        let mut counts = [None; 4];
        for (slot, t) in counts
            .iter_mut()
            .zip([tag::COUNT_IN, tag::COUNT_OUT, tag::COUNT_PASS, tag::COUNT_KEEP])
        {
            *slot = self.number::<u32>(t)?;
        }
        let is_counter = matches!(target, Some(target::CUSTOMER_COUNTER | target::CUSTOMER_COUNTER_BASIC))
            || counts.iter().any(Option::is_some);
        if self.section == Section::META && is_counter {
            return Ok(Metadata::CustomerCount {
                target: target.unwrap_or(target::CUSTOMER_COUNTER),
                device_id,
                channel,
                local_ms,
                r#in: counts[0].unwrap_or(0),
                out: counts[1].unwrap_or(0),
                pass: counts[2].unwrap_or(0),
                keep: counts[3],
            });
        }
        let attributes = self
            .fields
            .iter()
            .filter_map(|f| attribute_name(f.tag).map(|name| (name, attribute_value(f.tag, &f.value))))
            .collect();
        Ok(Metadata::Event {
            section: self.section,
            target,
            device_id,
            channel,
            local_ms,
            attributes,
            snapshot: self.field(tag::SNAPSHOT).map(<[u8]>::to_vec),
            object_picture: self.field(tag::OBJ_PIC).map(<[u8]>::to_vec),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn field(tag: u32, value: &[u8]) -> Field {
        Field {
            tag,
            value: value.to_vec(),
        }
    }

    /// A customer-counter record as a camera sends it, built by hand.
    fn counter_bytes() -> Vec<u8> {
        let mut inner = Vec::new();
        for (tag, value) in [
            (0x1u32, 5u32.to_be_bytes().to_vec()),
            (0x3, b"12221S55G3X8".to_vec()),
            (0x4, 0u32.to_be_bytes().to_vec()),
            (0x5, 1_752_624_000_000u64.to_be_bytes().to_vec()),
            (0x40001, 7u32.to_be_bytes().to_vec()),
            (0x40002, 3u32.to_be_bytes().to_vec()),
            (0x40003, 11u32.to_be_bytes().to_vec()),
            (0x40004, 4u32.to_be_bytes().to_vec()),
            (0x99999, vec![1, 2, 3]), // unknown: skipped
        ] {
            inner.extend_from_slice(&tag.to_be_bytes());
            inner.extend_from_slice(&(value.len() as u32).to_be_bytes());
            inner.extend_from_slice(&value);
        }
        let mut out = b"META".to_vec();
        out.extend_from_slice(&(inner.len() as u32).to_be_bytes());
        out.extend_from_slice(&inner);
        out
    }

    #[test]
    fn a_hand_built_customer_count() {
        let records = decode(&counter_bytes()).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].section, Section::META);
        assert_eq!(records[0].fields.len(), 9);
        match records[0].interpret().unwrap() {
            Metadata::CustomerCount {
                target,
                device_id,
                channel,
                local_ms,
                r#in,
                out,
                pass,
                keep,
            } => {
                assert_eq!(target, 5);
                assert_eq!(device_id.as_deref(), Some("12221S55G3X8"));
                assert_eq!(channel, Some(0));
                assert_eq!(local_ms, Some(1_752_624_000_000));
                assert_eq!((r#in, out, pass, keep), (7, 3, 11, Some(4)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn faces_and_ocr_are_events() {
        let face = Record {
            section: Section::META,
            fields: vec![
                field(tag::TARGET, &1u32.to_be_bytes()),
                field(tag::PTS, &1_752_624_000_000u64.to_be_bytes()),
                field(tag::PIC_SIZE, &[0x07, 0x80, 0x04, 0x38]),
                field(0x10002, &[2]),
                field(0x10003, &[3]),
                field(tag::SNAPSHOT, &[0xFF, 0xD8, 0xFF, 0xD9]),
            ],
        };
        let ocr = Record {
            section: Section::META,
            fields: vec![
                field(tag::TARGET, &15u32.to_be_bytes()),
                field(tag::OCR_TEXT, "京J66666\0".as_bytes()),
                field(tag::OCR_CONFIDENCE, &9512u16.to_be_bytes()),
            ],
        };
        let bytes = encode(&[face, ocr]);
        let decoded = decode(&bytes).unwrap();
        match decoded[0].interpret().unwrap() {
            Metadata::Event {
                target,
                attributes,
                snapshot,
                ..
            } => {
                assert_eq!(target, Some(1));
                assert!(attributes.contains(&("gender", Value::Int(2))));
                assert!(attributes.contains(&("ageGroup", Value::Int(3))));
                assert!(attributes.contains(&("pictureSize", Value::Text("1920x1080".into()))));
                assert_eq!(snapshot.as_deref(), Some(&[0xFF, 0xD8, 0xFF, 0xD9][..]));
            }
            other => panic!("{other:?}"),
        }
        match decoded[1].interpret().unwrap() {
            Metadata::Event { attributes, .. } => {
                assert!(attributes.contains(&("ocrText", Value::Text("京J66666".into()))));
                assert!(attributes.contains(&("ocrConfidence", Value::Int(9512))));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_lengths_are_clean_errors() {
        let good = counter_bytes();
        assert!(decode(&[]).is_err());
        for cut in [1, 4, 7, 8, 12, good.len() - 1] {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        // An outer length claiming more than there is.
        let mut lying = good.clone();
        lying[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&lying), Err(TlvError::Truncated { .. })));
        // An inner length running past its outer record.
        let mut inner_lying = good.clone();
        inner_lying[12..16].copy_from_slice(&1000u32.to_be_bytes());
        assert!(decode(&inner_lying).is_err());
    }

    #[test]
    fn unknown_sections_are_kept_but_not_read() {
        let bytes = encode(&[
            Record {
                section: Section(*b"XYZW"),
                fields: vec![field(tag::TARGET, &5u32.to_be_bytes()), field(0x77, b"abc")],
            },
            Record {
                section: Section::AREA,
                fields: vec![field(0x77, b"abc")],
            },
        ]);
        let r = decode(&bytes).unwrap();
        assert_eq!(r[0].fields.len(), 2, "kept as sent");
        assert_eq!(
            r[0].interpret(),
            Ok(Metadata::Other {
                section: Section(*b"XYZW")
            })
        );
        assert!(matches!(r[1].interpret(), Ok(Metadata::Event { ref attributes, .. }) if attributes.is_empty()));
    }

    #[test]
    fn unreadable_numbers_are_errors_not_zeros() {
        let counter = |extra: Field| Record {
            section: Section::META,
            fields: vec![field(tag::TARGET, &5u32.to_be_bytes()), extra],
        };
        let cases = [
            (field(tag::COUNT_IN, &[0, 0, 7]), Some(tag::COUNT_IN)),
            (field(tag::PTS, &[1, 2, 3]), Some(tag::PTS)),
            (field(tag::PTS, &u64::MAX.to_be_bytes()), Some(tag::PTS)),
            (field(tag::COUNT_OUT, &u64::MAX.to_be_bytes()), Some(tag::COUNT_OUT)),
            (field(tag::CHANNEL_ID, &[]), Some(tag::CHANNEL_ID)),
            (field(tag::COUNT_PASS, &[9]), None),
            (field(tag::OBJ_NAME, &[1, 2, 3]), None),
        ];
        for (extra, bad_tag) in cases {
            let what = format!("{extra:?}");
            match (counter(extra).interpret(), bad_tag) {
                (Err(e), Some(t)) => assert_eq!(e.tag, t, "{what}"),
                (Ok(_), None) => {}
                (other, _) => panic!("{what}: {other:?}"),
            }
        }
    }

    fn records_strategy() -> impl Strategy<Value = Vec<Record>> {
        let field =
            (any::<u32>(), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(tag, value)| Field { tag, value });
        let record =
            (prop::array::uniform4(any::<u8>()), prop::collection::vec(field, 0..8)).prop_map(|(s, fields)| Record {
                section: Section(s),
                fields,
            });
        prop::collection::vec(record, 1..6)
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(records in records_strategy()) {
            prop_assert_eq!(decode(&encode(&records)).unwrap(), records);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(records) = decode(&bytes) {
                for r in &records {
                    let _ = r.interpret();
                }
            }
        }
    }
}
