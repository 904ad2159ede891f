//! The WORKSPACE.toml loader: any text gives a workspace or a diagnostic whose span
//! lies inside the text, never a panic; every archive it accepts has a `files` export.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match rules::parse_workspace_file(text) {
        Ok(ws) => {
            for a in ws.archives.values() {
                assert!(a.exports.contains_key("files"));
                assert!(a.span.end <= text.len());
            }
        }
        Err(d) => {
            if let Some(span) = d.span {
                assert!(span.start <= text.len());
            }
        }
    }
});
