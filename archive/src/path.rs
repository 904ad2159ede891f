//! Archive entry paths, normalized and checked lexically before anything touches disk.

/// Turn an archive entry name into a relative `a/b/c` path: the one normalizer,
/// `release::normalize_relative`.
pub use release::normalize_relative as normalize_entry_path;

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

/// How many symlinks one resolution may pass through, as Linux allows (MAXSYMLINKS).
const MAX_LINKS: u32 = 40;

/// Why a symlink of a finished tree is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkEscape {
    /// Resolving it, with every link of the tree applied, goes above the root.
    Outside,
    /// It passes through more than `MAX_LINKS` links: a loop, or built to exhaust.
    Loop,
}

/// Resolve the symlink at `link` the way the kernel would in the finished tree:
/// every component that is itself a symlink of the tree (`link_target` answers for
/// those) is replaced by what it points to before going on, so `x -> .` followed by
/// `l -> x/..` is seen to leave the root although each is harmless lexically. Any
/// other component is taken to be a directory, which is the cautious reading: a
/// missing or regular component only stops the kernel sooner. Returns the path it
/// ends at.
pub(crate) fn resolve_in_tree<'t>(
    link: &str,
    link_target: &dyn Fn(&str) -> Option<&'t str>,
) -> Result<String, LinkEscape> {
    let target = link_target(link).expect("`link` is a symlink of the tree");
    let mut parts: Vec<String> = link.split('/').map(str::to_string).collect();
    parts.pop();
    let mut budget = MAX_LINKS;
    follow(&mut parts, target, link_target, &mut budget)?;
    Ok(parts.join("/"))
}

fn follow<'t>(
    parts: &mut Vec<String>,
    target: &str,
    link_target: &dyn Fn(&str) -> Option<&'t str>,
    budget: &mut u32,
) -> Result<(), LinkEscape> {
    if target.starts_with('/') {
        return Err(LinkEscape::Outside);
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(LinkEscape::Outside)?;
            }
            p => {
                parts.push(p.to_string());
                if let Some(next) = link_target(&parts.join("/")) {
                    *budget = budget.checked_sub(1).ok_or(LinkEscape::Loop)?;
                    parts.pop();
                    follow(parts, next, link_target, budget)?;
                }
            }
        }
    }
    Ok(())
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

    fn tree<'a>(links: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |p: &str| links.iter().find(|(l, _)| *l == p).map(|(_, t)| *t)
    }

    #[test]
    fn links_resolve_through_the_links_of_the_tree() {
        let ok: &[(&str, &str)] = &[
            ("lib64", "lib"),
            ("lib/libx.so.1", "libx.so.1.2"),
            ("bin/tool", "../lib64/libx.so.1"),
            ("a/up", ".."),
            ("a/self", "up/a"),
        ];
        let t = tree(ok);
        assert_eq!(
            resolve_in_tree("bin/tool", &t).as_deref(),
            Ok("lib/libx.so.1.2")
        );
        assert_eq!(resolve_in_tree("a/self", &t).as_deref(), Ok("a"));
        // Each harmless alone; together they leave the root.
        let bad: &[(&str, &str)] = &[("x", "."), ("l", "x/..")];
        assert_eq!(resolve_in_tree("l", &tree(bad)), Err(LinkEscape::Outside));
        let bad: &[(&str, &str)] = &[("a/up", ".."), ("l2", "a/up/.."), ("l3", "l2/etc/passwd")];
        assert_eq!(resolve_in_tree("l2", &tree(bad)), Err(LinkEscape::Outside));
        assert_eq!(resolve_in_tree("l3", &tree(bad)), Err(LinkEscape::Outside));
        let bad: &[(&str, &str)] = &[("l1", "a/b"), ("a", "../x")];
        assert_eq!(resolve_in_tree("l1", &tree(bad)), Err(LinkEscape::Outside));
        let looped: &[(&str, &str)] = &[("l1", "l2"), ("l2", "l1")];
        assert_eq!(resolve_in_tree("l1", &tree(looped)), Err(LinkEscape::Loop));
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
