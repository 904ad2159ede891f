//! The BUILD.toml loader: any text gives targets or a diagnostic whose span lies
//! inside the text, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match rules::parse_build_file(text, "pkg/sub") {
        Ok(targets) => {
            for t in targets {
                assert!(t.name_span.end <= text.len());
            }
        }
        Err(d) => {
            if let Some(span) = d.span {
                assert!(span.start <= text.len());
                let _ = rules::line_col(text, span.start);
            }
        }
    }
});
