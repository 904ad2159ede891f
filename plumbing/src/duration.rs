//! The one duration syntax of every flag and file: a whole number and a unit, or
//! several in a row from the largest: `500ms`, `30s`, `5m`, `2h`, `30d`, `1h30m`. A
//! bare number is seconds. Used by BUILD.toml test timeouts, fetch.toml's `[services]`
//! and health-check times, `kiln promote --expires`, `kiln keys --expires`.

use std::time::Duration;

const UNITS: &[(&str, u64)] = &[
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// Parse a duration; zero is allowed (callers that need more say so).
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let bad = || {
        format!("{text:?} is not a duration: write for example \"30s\", \"5m\", \"2h\" or \"30d\"")
    };
    if s.is_empty() {
        return Err(bad());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = s.parse().map_err(|_| bad())?;
        return n
            .checked_mul(1000)
            .map(Duration::from_millis)
            .ok_or_else(bad);
    }
    let mut total: u64 = 0;
    let mut rest = s;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let Some(rank) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!(
                "{text:?}: unknown unit {unit:?}; use ms, s, m, h or d"
            ));
        };
        // Largest unit first, each once: "1h30m", never "30m1h" or "1m1m".
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(bad());
        }
        last_rank = rank;
        total = n
            .checked_mul(UNITS[rank].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_millis(total))
}

/// A duration as people read it: `10s`, `2m 30s`.
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Like [`parse`], refusing zero (a time limit of nothing).
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse(text)? {
        d if d.is_zero() => Err(format!("{text:?}: a time limit must be more than zero")),
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_syntax() {
        assert_eq!(parse("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse("365d").unwrap(), Duration::from_secs(365 * 86_400));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("0s").unwrap(), Duration::ZERO);
        for bad in [
            "",
            "5 minutes",
            "-1s",
            "1w",
            "30m1h",
            "1m1m",
            "s",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse_positive("0").is_err());
        assert!(parse_positive("1ms").is_ok());
    }
}
