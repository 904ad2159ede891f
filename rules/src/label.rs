//! Labels as in Bazel: `//pkg/path:name`, `//pkg/path` (name = last segment), `:name`
//! in the same package, and `@archive//:export` for an external archive's file set.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    Target { package: String, name: String },
    Archive { archive: String, export: String },
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A bundle sharing its name with another target: said as written.
            Label::Target { package, name } if name.ends_with(crate::BUNDLE_TWIN) => write!(
                f,
                "//{package}:{} (bundle)",
                name.trim_end_matches(crate::BUNDLE_TWIN)
            ),
            Label::Target { package, name } => write!(f, "//{package}:{name}"),
            // A locked Python distribution: its archive is LOCK+DIST.
            Label::Archive { archive, export }
                if export == "files"
                    && archive.split_once('+').is_some_and(|(lock, d)| {
                        validate_name(lock).is_ok()
                            && crate::pylock::is_dist_name(d)
                            && crate::pylock::normalize(d) == d
                    }) =>
            {
                let (lock, dist) = archive.split_once('+').expect("checked");
                write!(f, "@{lock}//{dist}")
            }
            Label::Archive { archive, export } => write!(f, "@{archive}//:{export}"),
        }
    }
}

/// A target, export or archive name: letters, digits and `._+-`, not starting with `.`
/// or `-` (a binary's name becomes a command on hosts: never one that reads as a flag).
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid name (letters, digits and . _ + -, not starting with . or -)"
        ))
    }
}

fn validate_package(pkg: &str) -> Result<(), String> {
    if pkg.is_empty() {
        return Ok(());
    }
    for seg in pkg.split('/') {
        if seg == "." || seg == ".." {
            return Err(format!("package path {pkg:?} may not contain '.' or '..'"));
        }
        validate_name(seg).map_err(|e| format!("package path {pkg:?}: {e}"))?;
    }
    Ok(())
}

/// Strings that name a target rather than a source file.
pub fn looks_like_label(s: &str) -> bool {
    s.starts_with("//") || s.starts_with(':') || s.starts_with('@')
}

/// Parse a label written in package `current`.
pub fn parse_label(s: &str, current: &str) -> Result<Label, String> {
    if let Some(name) = s.strip_prefix(':') {
        validate_name(name)?;
        return Ok(Label::Target {
            package: current.to_string(),
            name: name.to_string(),
        });
    }
    if let Some(rest) = s.strip_prefix('@') {
        // @LOCK//DIST: a distribution of a [[python_lock]], normalized as PEP 503 does.
        if let Some((lock, dist)) = rest.split_once("//")
            && !dist.starts_with(':')
            && !dist.is_empty()
        {
            validate_name(lock)?;
            validate_name(dist)?;
            if lock.contains('+') {
                return Err(format!("{s:?}: a lock's name has no '+'"));
            }
            let dist = crate::pylock::normalize(dist);
            if !crate::pylock::is_dist_name(&dist) {
                return Err(format!("{s:?}: {dist:?} is not a distribution name"));
            }
            return Ok(Label::Archive {
                archive: format!("{lock}+{dist}"),
                export: "files".to_string(),
            });
        }
        let (archive, export) = rest.split_once("//:").ok_or_else(|| {
            format!("{s:?} is not a valid archive label: write @ARCHIVE//:EXPORT, for example @solr//:files")
        })?;
        validate_name(archive)?;
        validate_name(export)?;
        return Ok(Label::Archive {
            archive: archive.to_string(),
            export: export.to_string(),
        });
    }
    if let Some(rest) = s.strip_prefix("//") {
        let (package, name) = match rest.split_once(':') {
            Some((p, n)) => (p, n),
            None => (rest, rest.rsplit('/').next().unwrap_or("")),
        };
        if name.is_empty() {
            return Err(format!(
                "{s:?} names no target: write //PACKAGE:NAME or //PACKAGE"
            ));
        }
        validate_package(package)?;
        validate_name(name)?;
        return Ok(Label::Target {
            package: package.to_string(),
            name: name.to_string(),
        });
    }
    Err(format!(
        "{s:?} is not a label: labels start with //, : or @"
    ))
}

/// What `kiln build` and friends accept on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `//pkg/...`: every target at or below `pkg` ("" for the whole workspace),
    /// except those marked `manual`.
    Recursive(String),
    /// `//pkg:all`: every non-manual target of one package.
    Package(String),
    /// One label, manual or not.
    Label(Label),
}

pub fn parse_pattern(s: &str) -> Result<Pattern, String> {
    if s == "//..." {
        return Ok(Pattern::Recursive(String::new()));
    }
    if let Some(pkg) = s.strip_prefix("//").and_then(|r| r.strip_suffix("/...")) {
        validate_package(pkg)?;
        return Ok(Pattern::Recursive(pkg.to_string()));
    }
    if let Some(pkg) = s
        .strip_prefix("//")
        .and_then(|r| r.strip_suffix(":all").or_else(|| r.strip_suffix(":*")))
    {
        validate_package(pkg)?;
        return Ok(Pattern::Package(pkg.to_string()));
    }
    if s.starts_with(':') {
        return Err(format!(
            "{s:?}: on the command line write the full label, //PACKAGE:NAME"
        ));
    }
    parse_label(s, "").map(Pattern::Label)
}

pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Locked distributions print as they parse back (found by the labels fuzz target:
    /// `@lock//____` normalized to `-`, which printed as a label that did not parse).
    #[test]
    fn locked_distributions_round_trip() {
        for text in [
            "@pypi//Requests",
            "@pypi//charset_normalizer",
            "@a+b//:files",
            "@a+b+c//:files",
            "@x//:files",
            "@a+CCzz//:files",
            "@a+b.c//:files",
            "@A+b//:files",
            "@+abc//:files",
        ] {
            let l = parse_label(text, "p").unwrap();
            assert_eq!(
                parse_label(&l.to_string(), "q").unwrap(),
                l,
                "{text} printed {l}"
            );
        }
        assert_eq!(
            parse_label("@pypi//Requests", "p").unwrap().to_string(),
            "@pypi//requests"
        );
        for bad in [
            "@___________//______________",
            "@pypi//_x_",
            "@pypi//-x",
            "@p+q//x",
        ] {
            assert!(parse_label(bad, "p").is_err(), "{bad}");
        }
    }

    fn t(p: &str, n: &str) -> Label {
        Label::Target {
            package: p.into(),
            name: n.into(),
        }
    }

    #[test]
    fn parses_the_label_forms() {
        assert_eq!(parse_label(":x", "a/b").unwrap(), t("a/b", "x"));
        assert_eq!(parse_label("//a/b:x", "").unwrap(), t("a/b", "x"));
        assert_eq!(parse_label("//a/b", "").unwrap(), t("a/b", "b"));
        assert_eq!(parse_label("//:x", "").unwrap(), t("", "x"));
        assert_eq!(
            parse_label("@solr//:files", "").unwrap(),
            Label::Archive {
                archive: "solr".into(),
                export: "files".into()
            }
        );
        assert_eq!(t("a/b", "x").to_string(), "//a/b:x");
    }

    #[test]
    fn refuses_bad_labels() {
        for bad in [
            "x",
            "//a/../b:x",
            "//a:",
            "//",
            "@solr",
            "@solr//sub:x",
            ":a/b",
            "//a b:c",
        ] {
            assert!(parse_label(bad, "p").is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_patterns() {
        assert_eq!(
            parse_pattern("//...").unwrap(),
            Pattern::Recursive("".into())
        );
        assert_eq!(
            parse_pattern("//packages/...").unwrap(),
            Pattern::Recursive("packages".into())
        );
        assert_eq!(
            parse_pattern("//p:all").unwrap(),
            Pattern::Package("p".into())
        );
        assert_eq!(parse_pattern("//p:x").unwrap(), Pattern::Label(t("p", "x")));
    }
}
