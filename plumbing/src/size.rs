//! Sizes as people write and read them: `500M`, `10G`, `1.5GiB`, `4096` (bytes); powers
//! of 1024 whether or not the `i` is written.

const UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("B", 1),
    ("K", 1 << 10),
    ("M", 1 << 20),
    ("G", 1 << 30),
    ("T", 1 << 40),
];

/// Parse a size.
pub fn parse(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let bad = || format!("{text:?} is not a size: write for example \"500M\", \"10G\" or \"1.5G\"");
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let unit = unit.trim().to_ascii_uppercase();
    let unit = unit
        .strip_suffix("IB")
        .or_else(|| unit.strip_suffix('B').filter(|u| !u.is_empty()))
        .unwrap_or(&unit);
    let mult = UNITS
        .iter()
        .find(|(u, _)| u.eq_ignore_ascii_case(unit))
        .map(|(_, m)| *m)
        .ok_or_else(bad)?;
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1
    {
        return Err(bad());
    }
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// `1.5 GiB`, `12 KiB`, `512 B`.
pub fn format(bytes: u64) -> String {
    let mut unit = 0;
    let mut v = bytes as f64;
    const NAMES: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    while v >= 1024.0 && unit + 1 < NAMES.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", NAMES[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse("4096").unwrap(), 4096);
        assert_eq!(parse("500M").unwrap(), 500 << 20);
        assert_eq!(parse("10G").unwrap(), 10 << 30);
        assert_eq!(parse("10GiB").unwrap(), 10 << 30);
        assert_eq!(parse("10gb").unwrap(), 10 << 30);
        assert_eq!(parse("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse("0").unwrap(), 0);
        for bad in [
            "",
            "G",
            "1.G",
            ".5G",
            "1..5G",
            "10X",
            "-1G",
            "1e3",
            "99999999999T",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(format(512), "512 B");
        assert_eq!(format(3 << 29), "1.5 GiB");
    }
}
