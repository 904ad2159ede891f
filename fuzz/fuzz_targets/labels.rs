//! Labels and patterns: parsing never panics, and a parsed label prints as text that
//! parses back to the same label.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(label) = rules::parse_label(text, "pkg") {
        let again = rules::parse_label(&label.to_string(), "other").expect("printed labels parse");
        assert_eq!(again, label);
    }
    let _ = rules::parse_pattern(text);
    let _ = rules::is_glob(text);
});
