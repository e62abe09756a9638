//! Feeds arbitrary bytes to the TLV decoder and interprets whatever decodes:
//! neither may panic, and whatever decodes must re-encode to the same bytes.
#![no_main]

use footfall_domain::tlv::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = decode(data) {
        for r in &records {
            let _ = r.interpret();
        }
        assert_eq!(encode(&records), data);
    }
});
