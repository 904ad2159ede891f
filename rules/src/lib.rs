//! What targets mean: labels, the BUILD.toml schema, and the typed targets the builder
//! plans from. Pure: this crate reads strings and returns values; it never touches the
//! disk, the network or a process.

mod diag;
mod label;
mod target;
mod workspace;

pub use diag::{Diagnostic, line_col};
pub use label::{Label, Pattern, is_glob, parse_label, parse_pattern, validate_name};
pub use target::{
    BundleSpec, DEFAULT_GENRULE_TIMEOUT, DEFAULT_TEST_TIMEOUT, GenruleSpec, Item, Target,
    TargetKind, TestSpec, parse_build_file,
};
pub use workspace::{
    ArchiveSpec, CacheMode, CacheSpec, ExtractLimits, WorkspaceSpec, parse_workspace_file,
};

/// `"90s"`, `"5m"`, `"1h"`, `"500ms"`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        format!("{s:?} is not a duration: write for example \"30s\", \"5m\" or \"1h\"")
    })?;
    let millis = match unit {
        "ms" => n,
        "" | "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use ms, s, m or h")),
    };
    if millis == 0 {
        return Err(format!("{s:?}: a time limit must be more than zero"));
    }
    Ok(std::time::Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(
            super::parse_duration("90").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            super::parse_duration("5m").unwrap(),
            Duration::from_secs(300)
        );
        assert_eq!(
            super::parse_duration("250ms").unwrap(),
            Duration::from_millis(250)
        );
        for bad in ["", "0s", "5 minutes", "1d", "-1s"] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
    }
}
