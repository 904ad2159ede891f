//! Archive entry paths, normalized and checked lexically before anything touches disk.

/// Turn an archive entry name into a relative `a/b/c` path.
///
/// Leading `./`, empty and `.` components are dropped. Absolute paths and `..`
/// components are refused: the error says why. An empty result means the root.
pub fn normalize_entry_path(raw: &str) -> Result<String, &'static str> {
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

/// Resolve a symlink `target` found at entry `link` (both relative to the root) and
/// return the path it points to, or `None` when it leaves the root.
pub(crate) fn resolve_link(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') || target.is_empty() {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses_escapes() {
        assert_eq!(normalize_entry_path("./a//b/./c").unwrap(), "a/b/c");
        assert_eq!(normalize_entry_path("a/").unwrap(), "a");
        assert!(normalize_entry_path("/etc/passwd").is_err());
        assert!(normalize_entry_path("a/../../b").is_err());
        assert!(normalize_entry_path("..").is_err());
    }

    #[test]
    fn links_resolve_lexically() {
        assert_eq!(resolve_link("a/b/l", "../c").as_deref(), Some("a/c"));
        assert_eq!(resolve_link("a/l", "..").as_deref(), Some(""));
        assert_eq!(resolve_link("l", "x/y").as_deref(), Some("x/y"));
        assert_eq!(resolve_link("a/l", "../.."), None);
        assert_eq!(resolve_link("l", "/etc"), None);
    }
}
