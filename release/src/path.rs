//! The one lexical normalizer of relative paths (archive entries, export and
//! strip_prefix paths in WORKSPACE.toml): `a/./b//c` is `a/b/c`; absolute paths, `..`,
//! NUL and backslashes are refused, with the reason.

/// A relative `a/b/c` path with `.` and empty segments dropped (an empty result is the
/// root); absolute paths, `..` components, NUL and backslashes refused.
pub fn normalize_relative(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') {
        return Err("absolute path");
    }
    if raw.contains('\0') || raw.contains('\\') {
        return Err("NUL or backslash in path");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("'..' component"),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}
