//! Hashed requirements files (`pip-compile --generate-hashes`, `uv pip compile
//! --generate-hashes`): every line `NAME==VERSION` with the sha256 of each file of that
//! release it accepts, and the PEP 503 index pages the wheels are found on. Pure: the
//! builder fetches the pages and picks the wheel.

use std::ops::Range;

use release::Digest;

use crate::Diagnostic;
use crate::pylock::{is_dist_name, normalize};

/// One pinned requirement: a release and the hashes of the files it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// Normalized (PEP 503).
    pub name: String,
    pub version: String,
    /// The sha256 hashes the line accepts (other algorithms are ignored).
    pub hashes: Vec<Digest>,
    pub marker: Option<String>,
    /// The requirement as written (its first line).
    pub span: Range<usize>,
}

/// The requirements of a hashed requirements file. Index options (`--index-url`,
/// `--extra-index-url`, `--find-links`, `--trusted-host`) and `--prefer-binary`,
/// `--only-binary`, `--pre`, `--require-hashes` are accepted and not used: the index
/// is the workspace's `index_url`. What kiln cannot pin (`-r`, `-c`, `-e`, a URL or a
/// range instead of `==`, a line with no sha256) is an error at its line.
pub fn parse_requirements(text: &str) -> Result<Vec<Pinned>, Diagnostic> {
    let mut out: Vec<Pinned> = Vec::new();
    // A byte order mark is not part of the first line (pip skips it too).
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for (line, span) in logical_lines(&text[bom..]) {
        let span = span.start + bom..span.end + bom;
        let line = strip_comment(&line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('-') {
            option_line(line, &span)?;
            continue;
        }
        let p = requirement(line, span)?;
        if p.marker.is_none()
            && let Some(first) = out.iter().find(|o| o.name == p.name && o.marker.is_none())
        {
            let (at, _) = crate::line_col(text, first.span.start);
            return Err(Diagnostic::new(
                Some(p.span),
                format!(
                    "{} is pinned twice (first at line {at}) with no marker to tell them apart",
                    p.name
                ),
            ));
        }
        out.push(p);
    }
    Ok(out)
}

/// Lines joined where one ends in a backslash, each with the span of its first
/// physical line (from its first non-blank character). A comment line is never
/// continued, whatever it ends with (as pip reads it): `# pinned for X \` followed by
/// a requirement is a comment and a requirement.
fn logical_lines(text: &str) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Range<usize>)> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let body = raw.trim_end_matches(['\n', '\r']);
        let comment = body.trim_start().starts_with('#');
        let (body, continued) = match body.strip_suffix('\\') {
            Some(b) if !comment => (b, true),
            _ => (body, false),
        };
        let entry = current.get_or_insert_with(|| {
            let lead = body.len() - body.trim_start().len();
            (String::new(), start + lead..start + body.len())
        });
        entry.0.push_str(body);
        entry.0.push(' ');
        if !continued {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

/// A line without its comment (`#` at the start or after whitespace, as pip reads it).
fn strip_comment(line: &str) -> String {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return line[..i].to_string();
        }
        prev_space = c.is_whitespace();
    }
    line.to_string()
}

fn option_line(line: &str, span: &Range<usize>) -> Result<(), Diagnostic> {
    let name = line
        .split(|c: char| c == '=' || c.is_whitespace())
        .next()
        .unwrap_or("");
    match name {
        "-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links" | "--trusted-host"
        | "--no-index" | "--prefer-binary" | "--only-binary" | "--pre" | "--require-hashes" => {
            Ok(())
        }
        "-r" | "--requirement" | "-c" | "--constraint" => Err(Diagnostic::new(
            Some(span.clone()),
            format!("{name}: kiln reads one requirements file, not the files it includes"),
        )
        .hint("compile the requirements into one hashed file (pip-compile --generate-hashes, uv pip compile --generate-hashes)")),
        "-e" | "--editable" => Err(Diagnostic::new(
            Some(span.clone()),
            "an editable requirement is a checkout, not a pinned release",
        )
        .hint("put your own code in srcs of a py_library, and lock only releases")),
        _ => Err(Diagnostic::new(
            Some(span.clone()),
            format!("{name}: not an option of a hashed requirements file kiln reads"),
        )),
    }
}

fn requirement(line: &str, span: Range<usize>) -> Result<Pinned, Diagnostic> {
    let err = |m: String| Diagnostic::new(Some(span.clone()), m);
    // The requirement, then its options (` --hash=...`): markers never hold " --".
    let (req, opts) = match line.find(" --") {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    };
    let (spec, marker) = match req.split_once(';') {
        Some((s, m)) => (
            s.trim(),
            Some(m.trim().to_string()).filter(|m| !m.is_empty()),
        ),
        None => (req.trim(), None),
    };
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let raw_name = &spec[..end];
    let name = normalize(raw_name);
    if !is_dist_name(&name) {
        return Err(err(format!(
            "{line:?} does not start with a distribution name"
        )));
    }
    let mut rest = spec[end..].trim_start();
    if rest.starts_with('[') {
        // Extras change what pip installs beside it, not this release's files.
        let close = rest
            .find(']')
            .ok_or_else(|| err(format!("{raw_name}: unclosed [extras]")))?;
        rest = rest[close + 1..].trim_start();
    }
    let unpinned = || {
        err(format!(
            "{raw_name} is not pinned to one version (NAME==VERSION): {spec:?}"
        ))
        .hint("compile the requirements (pip-compile --generate-hashes, uv pip compile --generate-hashes)")
    };
    if rest.starts_with('@') {
        return Err(err(format!(
            "{raw_name} is a URL requirement: kiln pins releases of an index"
        ))
        .hint("publish the wheel to your index and pin NAME==VERSION with its hashes"));
    }
    let version = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))
        .ok_or_else(unpinned)?
        .trim();
    if version.is_empty()
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '-' | '_'))
    {
        return Err(unpinned());
    }
    let mut hashes = Vec::new();
    let mut other = false;
    let mut words = opts.split_whitespace();
    while let Some(w) = words.next() {
        let value = if w == "--hash" {
            words.next().unwrap_or("")
        } else if let Some(v) = w.strip_prefix("--hash=") {
            v
        } else {
            return Err(err(format!(
                "{w}: not a requirement option kiln reads (only --hash)"
            )));
        };
        let Some((algo, hex)) = value.split_once(':') else {
            return Err(err(format!("--hash {value:?} is not ALGORITHM:HEX")));
        };
        if algo != "sha256" {
            other = true;
            continue;
        }
        hashes.push(
            hex.to_ascii_lowercase()
                .parse::<Digest>()
                .map_err(|e| err(format!("{raw_name}: --hash sha256: {e}")))?,
        );
    }
    if hashes.is_empty() {
        let what = if other {
            "no sha256 hash (only other algorithms)"
        } else {
            "no --hash"
        };
        return Err(err(format!("{raw_name}=={version} has {what}: kiln pins every wheel by its sha256"))
            .hint("compile with hashes: pip-compile --generate-hashes, or uv pip compile --generate-hashes"));
    }
    Ok(Pinned {
        name,
        version: version.to_string(),
        hashes,
        marker,
        span,
    })
}

/// One link of a PEP 503 index page: its target (entities decoded, maybe relative) and
/// its text (the file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    pub text: String,
}

/// The `<a href=...>TEXT</a>` links of an HTML page.
pub fn page_links(html: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<a") {
        let start = at + i;
        at = start + 2;
        if !lower[at..].starts_with(|c: char| c.is_whitespace()) {
            continue;
        }
        // The tag ends at the first `>` outside quotes (`data-requires-python=">=3.8"`
        // is written unescaped by some indexes).
        let mut quote = None;
        let close = lower[at..].char_indices().find_map(|(i, c)| {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => return Some(i),
                _ => {}
            }
            None
        });
        let Some(close) = close else {
            break;
        };
        let attrs = &html[at..at + close];
        let body_start = at + close + 1;
        let body_end = lower[body_start..]
            .find("</a")
            .map_or(html.len(), |e| body_start + e);
        at = body_end;
        let Some(href) = attribute(attrs, "href") else {
            continue;
        };
        out.push(Link {
            href: unescape(&href),
            text: unescape(html[body_start..body_end].trim()),
        });
    }
    out
}

/// The value of `name=` in a tag's attributes (quoted either way, or bare).
fn attribute(attrs: &str, name: &str) -> Option<String> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0 || lower[..at].ends_with(|c: char| c.is_whitespace());
        let rest = attrs[from..].trim_start();
        let Some(value) = rest.strip_prefix('=') else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let value = value.trim_start();
        return Some(match value.chars().next()? {
            q @ ('"' | '\'') => value[1..].split(q).next()?.to_string(),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()?
                .to_string(),
        });
    }
    None
}

/// HTML character references: the named ones an index writes, and numeric ones.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&e| e <= 10).and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "amp" => Some('&'),
                _ => {
                    let n = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    n.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether the wheel file name `file` is of the release `name`==`version`.
pub fn wheel_of(file: &str, name: &str, version: &str) -> bool {
    let mut parts = file.strip_suffix(".whl").unwrap_or("").split('-');
    match (parts.next(), parts.next()) {
        (Some(d), Some(v)) => {
            normalize(d) == name && v.replace('_', "-").eq_ignore_ascii_case(version)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UV: &str = "# This file was autogenerated by uv via the following command:\n#    uv pip compile --generate-hashes requirements.in\n--index-url https://pypi.example/simple\ncertifi==2024.2.2 \\\n    --hash=sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f \\\n    --hash=sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1\n    # via requests\nCharset_Normalizer==3.3.2 ; python_version >= \"3.7\" \\\n    --hash sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f\n    # via requests\nrequests[socks]==2.31.0 --hash=sha512:00 --hash=sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1\n";

    #[test]
    fn a_uv_requirements_file_reads_as_pins() {
        let r = parse_requirements(UV).unwrap();
        let names: Vec<&str> = r.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["certifi", "charset-normalizer", "requests"]);
        assert_eq!(r[0].version, "2024.2.2");
        assert_eq!(r[0].hashes.len(), 2);
        assert_eq!(r[1].marker.as_deref(), Some("python_version >= \"3.7\""));
        assert_eq!(r[2].hashes.len(), 1);
        assert_eq!(crate::line_col(UV, r[1].span.start).0, 8);
        assert_eq!(&UV[r[0].span.clone()], "certifi==2024.2.2 ");
    }

    #[test]
    fn what_pip_reads_kiln_reads() {
        let h = "0569859F95FC761B18B45EF421B1290A0F65F147E92A1E5EB3E635F9A5E4E66F";
        // A comment ending in a backslash does not swallow the next line; a BOM and
        // upper-case hex are as pip takes them.
        let text = format!("\u{feff}# pinned for the CLI \\\nidna==3.20 --hash=sha256:{h}\n");
        let r = parse_requirements(&text).unwrap();
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].name, "idna");
        assert_eq!(r[0].hashes[0].hex(), h.to_ascii_lowercase());
        assert_eq!(crate::line_col(&text, r[0].span.start).0, 2);
    }

    #[test]
    fn what_cannot_be_pinned_is_an_error_at_its_line() {
        let h = " --hash=sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f";
        for (text, says) in [
            ("requests>=2\n".to_string(), "not pinned to one version"),
            ("requests==2.*\n".to_string(), "not pinned to one version"),
            ("requests==2.31.0\n".to_string(), "has no --hash"),
            (
                "requests==2.31.0 --hash=sha512:00\n".to_string(),
                "no sha256 hash",
            ),
            (
                format!("requests @ https://x/r.whl{h}\n"),
                "URL requirement",
            ),
            ("-r other.txt\n".to_string(), "not the files it includes"),
            ("-e .\n".to_string(), "editable"),
            ("--no-binary :all:\n".to_string(), "not an option"),
            (
                format!("a==1{h}\nA==2{h}\n"),
                "pinned twice (first at line 1)",
            ),
            (format!("a==1 --global-option=x{h}\n"), "only --hash"),
            ("a==1 --hash=sha256:zz\n".to_string(), "--hash sha256"),
        ] {
            let e = parse_requirements(&text).unwrap_err();
            assert!(e.message.contains(says), "{text}: {}", e.message);
            assert!(e.span.is_some(), "{text}");
        }
    }

    #[test]
    fn links_of_an_index_page() {
        let html = "<!DOCTYPE html><html><body><h1>Links for idna</h1>\n<a href=\"../../files/idna-3.6-py3-none-any.whl#sha256=abc\" data-requires-python=\"&gt;=3.5\">idna-3.6-py3-none-any.whl</a><br/>\n<A HREF='idna-3.6.tar.gz#sha256=def&amp;x=1'>idna-3.6.tar.gz</A>\n<abbr>no</abbr><a name=x>none</a></body></html>";
        let l = page_links(html);
        assert_eq!(
            l,
            vec![
                Link {
                    href: "../../files/idna-3.6-py3-none-any.whl#sha256=abc".into(),
                    text: "idna-3.6-py3-none-any.whl".into()
                },
                Link {
                    href: "idna-3.6.tar.gz#sha256=def&x=1".into(),
                    text: "idna-3.6.tar.gz".into()
                },
            ]
        );
        let raw = "<a data-requires-python=\">=3.5\" href=\"x/idna-3.6-py3-none-any.whl#sha256=a\">idna&#45;3.6&#x2d;py3-none-any.whl</a>";
        assert_eq!(
            page_links(raw),
            vec![Link {
                href: "x/idna-3.6-py3-none-any.whl#sha256=a".into(),
                text: "idna-3.6-py3-none-any.whl".into()
            }]
        );
        assert_eq!(
            unescape("a &amp b &#999999999; &#43;"),
            "a &amp b &#999999999; +"
        );
        assert!(wheel_of("idna-3.6-py3-none-any.whl", "idna", "3.6"));
        assert!(wheel_of(
            "charset_normalizer-3.3.2-cp311-cp311-manylinux_2_17_x86_64.whl",
            "charset-normalizer",
            "3.3.2"
        ));
        assert!(!wheel_of("idna-3.7-py3-none-any.whl", "idna", "3.6"));
        assert!(!wheel_of("idna-3.6.tar.gz", "idna", "3.6"));
    }
}
