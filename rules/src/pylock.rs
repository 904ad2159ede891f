//! Python lock files: PEP 751 `pylock.toml` (as `uv pip compile --format pylock.toml`
//! writes it), read into the distributions it pins, each with its wheels and their
//! sha256, and the choice of the one wheel a target interpreter can use. Pure: the
//! builder reads the file and asks the interpreter for its tags.

use std::ops::Range;

use release::Digest;
use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;

#[derive(Deserialize)]
struct LockDef {
    #[serde(rename = "lock-version")]
    lock_version: Spanned<String>,
    #[serde(rename = "requires-python")]
    requires_python: Option<Spanned<String>>,
    #[serde(default)]
    packages: Vec<PackageDef>,
}

#[derive(Deserialize)]
struct PackageDef {
    name: Spanned<String>,
    version: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    wheels: Vec<WheelDef>,
    sdist: Option<toml::Value>,
    /// PEP 751's dependency records: tables naming other entries.
    dependencies: Option<Vec<DependencyDef>>,
}

#[derive(Deserialize)]
struct DependencyDef {
    name: String,
}

#[derive(Deserialize)]
struct WheelDef {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    hashes: Spanned<std::collections::BTreeMap<String, String>>,
}

/// One distribution the lock pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    /// Normalized (PEP 503): lowercase, runs of `-_.` as one `-`.
    pub name: String,
    pub version: Option<String>,
    /// The environment marker the lock gives the entry, if any (not evaluated here).
    pub marker: Option<String>,
    pub wheels: Vec<Wheel>,
    /// The entry's dependency records (normalized names), when the lock has them.
    pub dependencies: Option<Vec<String>>,
    /// Where the entry's name is written.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wheel {
    pub url: String,
    /// The same file elsewhere, tried in order after `url` (a requirements lock's
    /// other indexes).
    pub mirrors: Vec<String>,
    pub file: String,
    pub sha256: Digest,
    pub tags: Vec<Tag>,
}

/// One (python, abi, platform) triple a wheel's file name expands to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// A normalized distribution name: letters, digits and single `-` between them.
pub fn is_dist_name(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.contains("--")
}

/// PEP 503 normalization of a distribution name.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The most tags a wheel file name may expand to (real ones: a few dozen).
const MAX_TAGS: usize = 1024;

/// The tags of a wheel file name (`{dist}-{version}(-{build})?-{py}-{abi}-{plat}.whl`,
/// each of the last three possibly a `.`-separated set). None for a name that is not
/// one, or whose sets expand to more than [`MAX_TAGS`].
pub fn wheel_tags(file: &str) -> Option<Vec<Tag>> {
    let stem = file.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() != 5 && parts.len() != 6 {
        return None;
    }
    let n = parts.len();
    let count = |s: &str| s.split('.').count();
    if count(parts[n - 3])
        .saturating_mul(count(parts[n - 2]))
        .saturating_mul(count(parts[n - 1]))
        > MAX_TAGS
    {
        return None;
    }
    let mut tags = Vec::new();
    for py in parts[n - 3].split('.') {
        for abi in parts[n - 2].split('.') {
            for plat in parts[n - 1].split('.') {
                tags.push(Tag {
                    python: py.to_string(),
                    abi: abi.to_string(),
                    platform: plat.to_string(),
                });
            }
        }
    }
    Some(tags)
}

/// A lock: its entries, and its `requires-python` with where it is written.
#[derive(Debug)]
pub struct Lock {
    pub packages: Vec<Locked>,
    pub requires_python: Option<(String, Range<usize>)>,
}

/// Whether `version` (`3.11.7`) meets a specifier set such as `>=3.8,<4` or `~=3.11`.
pub fn python_meets(version: &str, specifiers: &str) -> bool {
    specifiers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|s| {
            let op_end = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
            let (op, v) = (s[..op_end].trim(), s[op_end..].trim());
            let v = v.trim_end_matches(".*");
            let op = if op.is_empty() { "==" } else { op };
            compare("python_full_version", version, op, v)
                || (op == "==" && s.ends_with(".*") && version.starts_with(&format!("{v}.")))
        })
}

/// Read a pylock.toml. Every entry must have at least one wheel with a sha256 (kiln
/// builds nothing from source distributions), whose file name is of that distribution.
pub fn parse_pylock(text: &str) -> Result<Lock, Diagnostic> {
    let def: LockDef = toml::from_str(text).map_err(|e| Diagnostic::from_toml(&e))?;
    if !def.lock_version.get_ref().starts_with("1.") {
        return Err(Diagnostic::new(
            Some(def.lock_version.span()),
            format!(
                "lock-version {:?}: kiln reads pylock.toml version 1",
                def.lock_version.get_ref()
            ),
        )
        .hint("write the lock with a locker that follows PEP 751, e.g. `uv pip compile --format pylock.toml`"));
    }
    let mut out: Vec<Locked> = Vec::new();
    for p in def.packages {
        let name = normalize(p.name.get_ref());
        let span = p.name.span();
        if !is_dist_name(&name) {
            return Err(Diagnostic::new(
                Some(span),
                format!("{:?} is not a distribution name", p.name.get_ref()),
            ));
        }
        if p.marker.is_none()
            && let Some(first) = out.iter().find(|o| o.name == name && o.marker.is_none())
        {
            let (line, _) = crate::line_col(text, first.span.start);
            return Err(Diagnostic::new(
                Some(span),
                format!(
                    "{name} is locked twice (first at line {line}) with no marker to tell them apart"
                ),
            ));
        }
        if p.wheels.is_empty() {
            let what = if p.sdist.is_some() {
                "only a source distribution"
            } else {
                "no wheels"
            };
            return Err(Diagnostic::new(
                Some(span),
                format!("{name} has {what}: kiln installs wheels only"),
            )
            .hint("lock with wheels only (uv: --only-binary :all:), or build a wheel of it and serve it from your index"));
        }
        let mut wheels = Vec::new();
        for w in p.wheels {
            let Some(url) = w.url.clone() else {
                return Err(Diagnostic::new(
                    Some(w.hashes.span()),
                    format!(
                        "a wheel of {name} has no url{}: kiln fetches wheels by URL",
                        w.path
                            .map(|p| format!(" (only path {p:?})"))
                            .unwrap_or_default()
                    ),
                )
                .hint("lock against an index or --find-links served over http(s)"));
            };
            if !["https://", "http://", "file://"]
                .iter()
                .any(|p| url.starts_with(p))
            {
                return Err(Diagnostic::new(
                    Some(w.hashes.span()),
                    format!(
                        "{url:?} (a wheel of {name}) is not a URL kiln can fetch: use https://, http:// or file://"
                    ),
                ));
            }
            let Some(sha) = w.hashes.get_ref().get("sha256") else {
                return Err(Diagnostic::new(
                    Some(w.hashes.span()),
                    format!("the wheel {url} of {name} has no sha256 hash"),
                )
                .hint("lock with a locker that records sha256 hashes"));
            };
            let sha256: Digest = sha.parse().map_err(|e| {
                Diagnostic::new(Some(w.hashes.span()), format!("sha256 of {url}: {e}"))
            })?;
            let file = w
                .name
                .clone()
                .unwrap_or_else(|| url.rsplit('/').next().unwrap_or("").to_string());
            let file = file.split(['?', '#']).next().unwrap_or("").to_string();
            let tags = wheel_tags(&file).ok_or_else(|| {
                Diagnostic::new(
                    Some(w.hashes.span()),
                    format!("{file:?} (a wheel of {name}) is not a wheel file name"),
                )
            })?;
            let of = normalize(file.split('-').next().unwrap_or(""));
            if of != name {
                return Err(Diagnostic::new(
                    Some(w.hashes.span()),
                    format!("{file} is a wheel of {of}, not of {name}"),
                )
                .hint("the lock was edited by hand or points at the wrong file: lock again"));
            }
            wheels.push(Wheel {
                url,
                mirrors: Vec::new(),
                file,
                sha256,
                tags,
            });
        }
        // One entry per distribution and environment: the same name twice is for two
        // markers (kiln evaluates neither; the builder takes the one whose wheel fits).
        out.push(Locked {
            name,
            version: p.version,
            marker: p.marker,
            wheels,
            dependencies: p
                .dependencies
                .map(|d| d.iter().map(|d| normalize(&d.name)).collect()),
            span,
        });
    }
    Ok(Lock {
        packages: out,
        requires_python: def.requires_python.map(|r| (r.get_ref().clone(), r.span())),
    })
}

/// What a target interpreter accepts, best first: its tags as pip's
/// `packaging.tags.sys_tags()` lists them.
#[derive(Debug, Clone)]
pub struct Interpreter {
    pub tags: Vec<Tag>,
    /// For messages: `cpython 3.11 x86_64, glibc 2.36`.
    pub describe: String,
    /// The values environment markers are evaluated with.
    pub markers: MarkerEnv,
}

impl Interpreter {
    /// The tags of CPython 3.`minor` on Linux `machine` with glibc 2.`glibc`, in the
    /// order `packaging.tags.sys_tags()` gives them (most specific first).
    pub fn cpython(minor: u32, machine: &str, glibc: Option<u32>) -> Interpreter {
        let mut plats = Vec::new();
        if let Some(g) = glibc {
            for v in (5..=g).rev() {
                plats.push(format!("manylinux_2_{v}_{machine}"));
                // The legacy aliases, right after the version they stand for.
                let alias = match v {
                    17 => Some("manylinux2014"),
                    12 => Some("manylinux2010"),
                    5 => Some("manylinux1"),
                    _ => None,
                };
                if let Some(a) = alias {
                    plats.push(format!("{a}_{machine}"));
                }
            }
        }
        plats.push(format!("linux_{machine}"));
        let cp = format!("cp3{minor}");
        let t = |py: &str, abi: &str, plat: &str| Tag {
            python: py.to_string(),
            abi: abi.to_string(),
            platform: plat.to_string(),
        };
        let mut tags = Vec::new();
        for p in &plats {
            tags.push(t(&cp, &cp, p));
        }
        for p in &plats {
            tags.push(t(&cp, "abi3", p));
        }
        for p in &plats {
            tags.push(t(&cp, "none", p));
        }
        for older in (2..minor).rev() {
            for p in &plats {
                tags.push(t(&format!("cp3{older}"), "abi3", p));
            }
        }
        for py in std::iter::once(format!("py3{minor}"))
            .chain(std::iter::once("py3".to_string()))
            .chain((0..minor).rev().map(|m| format!("py3{m}")))
        {
            for p in &plats {
                tags.push(t(&py, "none", p));
            }
        }
        tags.push(t(&cp, "none", "any"));
        tags.push(t(&format!("py3{minor}"), "none", "any"));
        tags.push(t("py3", "none", "any"));
        for m in (0..minor).rev() {
            tags.push(t(&format!("py3{m}"), "none", "any"));
        }
        let markers = [
            ("python_version", format!("3.{minor}")),
            ("python_full_version", format!("3.{minor}.0")),
            ("sys_platform", "linux".into()),
            ("platform_system", "Linux".into()),
            ("platform_machine", machine.into()),
            ("os_name", "posix".into()),
            ("implementation_name", "cpython".into()),
            ("platform_python_implementation", "CPython".into()),
            ("extra", String::new()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Interpreter {
            tags,
            markers,
            describe: match glibc {
                Some(g) => format!("CPython 3.{minor} on {machine} Linux, glibc 2.{g}"),
                None => format!("CPython 3.{minor} on {machine} Linux"),
            },
        }
    }

    /// The wheel of `l` this interpreter takes (the one whose best tag ranks first).
    pub fn choose<'a>(&self, l: &'a Locked) -> Option<&'a Wheel> {
        l.wheels
            .iter()
            .filter_map(|w| {
                let rank = w
                    .tags
                    .iter()
                    .filter_map(|t| self.tags.iter().position(|s| s == t))
                    .min()?;
                Some((rank, w))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, w)| w)
    }
}

/// A dependency of a wheel, from a `Requires-Dist:` line of its METADATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Normalized.
    pub name: String,
    pub marker: Option<String>,
}

/// Parse `name[extras] (>=1) ; marker` (PEP 508, as wheel metadata writes it). The
/// version bounds are the locker's business: the lock already chose one version.
pub fn parse_requirement(line: &str) -> Option<Requirement> {
    let (spec, marker) = match line.split_once(';') {
        Some((a, m)) => (a, Some(m.trim().to_string())),
        None => (line, None),
    };
    let spec = spec.trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    if name.is_empty() {
        return None;
    }
    Some(Requirement {
        name: normalize(name),
        marker,
    })
}

/// The names an environment marker may use, with this interpreter's values
/// (`python_version` "3.11", `sys_platform` "linux", ...).
pub type MarkerEnv = std::collections::BTreeMap<String, String>;

/// Whether `marker` (PEP 508) holds in `env`; `extra` is "" (no extras are asked for).
pub fn marker_holds(marker: &str, env: &MarkerEnv) -> Result<bool, String> {
    let tokens = tokenize(marker)?;
    let mut p = MarkerParser {
        t: &tokens,
        i: 0,
        env,
    };
    let v = p.or()?;
    if p.i != tokens.len() {
        return Err(format!("marker {marker:?}: unexpected {:?}", tokens[p.i]));
    }
    Ok(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(String),
    Open,
    Close,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            q @ ('"' | '\'') => {
                let end = c[i + 1..]
                    .iter()
                    .position(|x| *x == q)
                    .ok_or_else(|| format!("marker {s:?}: unclosed quote"))?;
                out.push(Tok::Str(c[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '<' | '>' | '=' | '!' | '~' => {
                let mut j = i;
                while j < c.len() && matches!(c[j], '<' | '>' | '=' | '!' | '~') {
                    j += 1;
                }
                out.push(Tok::Op(c[i..j].iter().collect()));
                i = j;
            }
            x if x.is_ascii_alphanumeric() || x == '_' || x == '.' => {
                let mut j = i;
                while j < c.len() && (c[j].is_ascii_alphanumeric() || matches!(c[j], '_' | '.')) {
                    j += 1;
                }
                out.push(Tok::Word(c[i..j].iter().collect()));
                i = j;
            }
            x => return Err(format!("marker {s:?}: unexpected {x:?}")),
        }
    }
    Ok(out)
}

struct MarkerParser<'a> {
    t: &'a [Tok],
    i: usize,
    env: &'a MarkerEnv,
}

impl MarkerParser<'_> {
    fn word(&self, w: &str) -> bool {
        matches!(self.t.get(self.i), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.word("or") {
            self.i += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.atom()?;
        while self.word("and") {
            self.i += 1;
            let r = self.atom()?;
            v = v && r;
        }
        Ok(v)
    }

    fn atom(&mut self) -> Result<bool, String> {
        if self.t.get(self.i) == Some(&Tok::Open) {
            self.i += 1;
            let v = self.or()?;
            if self.t.get(self.i) != Some(&Tok::Close) {
                return Err("marker: missing )".into());
            }
            self.i += 1;
            return Ok(v);
        }
        let (lhs, lvar) = self.value()?;
        let op = match self.t.get(self.i) {
            Some(Tok::Op(o)) => o.clone(),
            Some(Tok::Word(w)) if w == "in" => "in".to_string(),
            Some(Tok::Word(w)) if w == "not" => {
                self.i += 1;
                if !self.word("in") {
                    return Err("marker: `not` without `in`".into());
                }
                "not in".to_string()
            }
            Some(other) => return Err(format!("marker: expected an operator, not {other:?}")),
            None => return Err("marker: it ends where an operator should follow".into()),
        };
        self.i += 1;
        let (rhs, rvar) = self.value()?;
        let var = lvar.or(rvar).unwrap_or_default();
        Ok(compare(&var, &lhs, &op, &rhs))
    }

    /// A quoted string, or a variable's value (and its name).
    fn value(&mut self) -> Result<(String, Option<String>), String> {
        let v = match self.t.get(self.i) {
            Some(Tok::Str(s)) => (s.clone(), None),
            Some(Tok::Word(w)) => {
                let known = self
                    .env
                    .get(w)
                    .cloned()
                    .ok_or_else(|| format!("marker: unknown variable {w:?}"))?;
                (known, Some(w.clone()))
            }
            Some(other) => return Err(format!("marker: expected a value, not {other:?}")),
            None => return Err("marker: it ends where a value should follow".into()),
        };
        self.i += 1;
        Ok(v)
    }
}

fn compare(var: &str, a: &str, op: &str, b: &str) -> bool {
    if var == "extra" {
        let (a, b) = (normalize(a), normalize(b));
        return match op {
            "==" | "===" => a == b,
            "!=" => a != b,
            _ => false,
        };
    }
    match op {
        "in" => return b.contains(a),
        "not in" => return !b.contains(a),
        _ => {}
    }
    let version = |s: &str| -> Option<Vec<u64>> { s.split('.').map(|p| p.parse().ok()).collect() };
    // `== 3.11.*` and `!= 3.*`: a prefix of the release segments (PEP 440).
    if var.ends_with("_version")
        && matches!(op, "==" | "!=")
        && let Some(prefix) = b.strip_suffix(".*").and_then(version)
        && let Some(x) = version(a)
    {
        let mut x = x;
        x.resize(x.len().max(prefix.len()), 0);
        return x.starts_with(&prefix) == (op == "==");
    }
    let ord = match (version(a), version(b)) {
        (Some(x), Some(y)) if var.ends_with("_version") => {
            // ~= X.Y means >= X.Y and == X.*
            if op == "~=" {
                let prefix = &y[..y.len().saturating_sub(1).max(1)];
                return x >= y && x.starts_with(prefix);
            }
            let n = x.len().max(y.len());
            let pad = |v: Vec<u64>| {
                let mut v = v;
                v.resize(n, 0);
                v
            };
            pad(x).cmp(&pad(y))
        }
        _ => a.cmp(b),
    };
    use std::cmp::Ordering::*;
    match op {
        "==" | "===" => ord == Equal,
        "!=" => ord != Equal,
        "<" => ord == Less,
        "<=" => ord != Greater,
        ">" => ord == Greater,
        ">=" => ord != Less,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "Charset_Normalizer"
version = "3.5.3"
wheels = [
  { url = "http://i/charset_normalizer-3.5.3-cp311-cp311-manylinux1_x86_64.manylinux_2_28_x86_64.whl", hashes = { sha256 = "2a6f937e0b70133d1f826d0a253331b6fe1a4c874808cc12e16f2fb8177042f4" } },
  { url = "http://i/charset_normalizer-3.5.3-py3-none-any.whl", hashes = { sha256 = "1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2" } },
]

[[packages]]
name = "idna"
version = "3.20"
wheels = [{ url = "http://i/idna-3.20-py3-none-any.whl", hashes = { sha256 = "ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c" } }]
"#;

    fn tag(s: &str) -> Tag {
        let v: Vec<&str> = s.split('-').collect();
        Tag {
            python: v[0].into(),
            abi: v[1].into(),
            platform: v[2].into(),
        }
    }

    #[test]
    fn reads_a_uv_lock_and_picks_the_best_wheel() {
        let l = parse_pylock(LOCK).unwrap().packages;
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].name, "charset-normalizer");
        assert_eq!(l[0].wheels[0].tags.len(), 2);
        let cp311 = Interpreter {
            tags: vec![
                tag("cp311-cp311-manylinux_2_28_x86_64"),
                tag("cp311-cp311-manylinux1_x86_64"),
                tag("py3-none-any"),
            ],
            describe: "cpython 3.11".into(),
            markers: MarkerEnv::new(),
        };
        assert!(cp311.choose(&l[0]).unwrap().file.contains("cp311"));
        let other = Interpreter {
            tags: vec![tag("cp312-cp312-linux_x86_64"), tag("py3-none-any")],
            describe: "cpython 3.12".into(),
            markers: MarkerEnv::new(),
        };
        assert!(other.choose(&l[0]).unwrap().file.contains("py3-none-any"));
        let none = Interpreter {
            tags: vec![tag("cp312-cp312-linux_aarch64")],
            describe: "cpython 3.12".into(),
            markers: MarkerEnv::new(),
        };
        assert!(none.choose(&l[1]).is_none());
    }

    #[test]
    fn bad_locks_point_at_their_line() {
        for (bad, says, line) in [
            (LOCK.replace("\"1.0\"", "\"2.0\""), "lock-version", 1),
            (LOCK.replace("http://i/idna", "ftp://i/idna"), "not a URL", 16),
            (
                LOCK.replace("sha256 = \"ab7a", "md5 = \"ab7a"),
                "no sha256",
                16,
            ),
            (LOCK.replace("idna-3.20-py3-none-any.whl", "idna.zip"), "not a wheel", 16),
            (
                LOCK.replace(
                    "wheels = [{ url = \"http://i/idna-3.20-py3-none-any.whl\", hashes = { sha256 = \"ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c\" } }]",
                    "sdist = { url = \"http://i/idna-3.20.tar.gz\" }",
                ),
                "only a source",
                14,
            ),
            (LOCK.replace("[[packages]]\nname = \"idna\"", "[[packages]\nname = \"idna\""), "", 13),
        ] {
            let d = parse_pylock(&bad).unwrap_err();
            assert!(d.message.contains(says), "{}", d.message);
            let at = crate::line_col(&bad, d.span.clone().unwrap().start).0;
            assert_eq!(at, line, "{}", d.message);
        }
    }

    #[test]
    fn cpython_tags_rank_the_specific_before_the_generic() {
        let i = Interpreter::cpython(11, "x86_64", Some(36));
        let pos = |s: &str| i.tags.iter().position(|t| *t == tag(s)).unwrap();
        assert_eq!(i.tags[0], tag("cp311-cp311-manylinux_2_36_x86_64"));
        assert!(pos("cp311-cp311-manylinux2014_x86_64") < pos("cp311-cp311-manylinux1_x86_64"));
        assert!(pos("cp311-cp311-linux_x86_64") < pos("cp311-abi3-manylinux_2_36_x86_64"));
        assert!(pos("cp37-abi3-manylinux_2_17_x86_64") < pos("py3-none-any"));
        assert_eq!(i.tags.last(), Some(&tag("py30-none-any")));
        assert!(!i.tags.contains(&tag("cp311-cp311-manylinux_2_37_x86_64")));
    }

    #[test]
    fn markers_of_real_wheels_evaluate_for_this_interpreter() {
        let env: MarkerEnv = [
            ("python_version", "3.11"),
            ("python_full_version", "3.11.7"),
            ("sys_platform", "linux"),
            ("platform_system", "Linux"),
            ("platform_machine", "x86_64"),
            ("os_name", "posix"),
            ("implementation_name", "cpython"),
            ("platform_python_implementation", "CPython"),
            ("extra", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (m, want) in [
            ("extra == \"socks\"", false),
            ("python_version >= \"3.8\"", true),
            ("python_version < \"3.10\"", false),
            ("python_full_version >= '3.11.7'", true),
            (
                "sys_platform == \"win32\" or (os_name == 'posix' and platform_machine == 'x86_64')",
                true,
            ),
            (
                "platform_python_implementation != \"PyPy\" and python_version ~= \"3.9\"",
                true,
            ),
            ("'linux' in sys_platform", true),
            ("implementation_name not in 'pypy jython'", true),
            // Wildcards are prefixes of the release (what packaging says).
            ("python_full_version == '3.11.*'", true),
            ("python_version != \"3.*\"", false),
            ("python_version == \"3.1.*\"", false),
            ("python_version != '2.*'", true),
        ] {
            assert_eq!(marker_holds(m, &env), Ok(want), "{m}");
        }
        assert!(marker_holds("os == 'x'", &env).is_err());
        assert_eq!(
            marker_holds("python_version >=", &env),
            Err("marker: it ends where a value should follow".to_string())
        );
        let r = parse_requirement("PySocks!=1.5.7,>=1.5.6; extra == \"socks\"").unwrap();
        assert_eq!(r.name, "pysocks");
        assert_eq!(r.marker.as_deref(), Some("extra == \"socks\""));
        assert_eq!(
            parse_requirement("charset_normalizer<4,>=2").unwrap().name,
            "charset-normalizer"
        );
        assert_eq!(parse_requirement("idna (<4,>=2.5)").unwrap().name, "idna");
    }

    #[test]
    fn a_wheel_name_expands_to_a_bounded_set_of_tags() {
        let n = 200;
        let set = |t: &str| vec![t; n].join(".");
        let file = format!(
            "idna-3.20-{}-{}-{}.whl",
            set("py3"),
            set("none"),
            set("any")
        );
        assert_eq!(wheel_tags(&file), None);
        let real = "charset_normalizer-3.5.3-cp311-cp311-manylinux1_x86_64.manylinux_2_28_x86_64.manylinux_2_5_x86_64.whl";
        assert_eq!(wheel_tags(real).map(|t| t.len()), Some(3));
    }

    #[test]
    fn requires_python_specifiers() {
        assert!(python_meets("3.11.7", ">=3.11.7"));
        assert!(python_meets("3.11.7", ">=3.8,<4"));
        assert!(!python_meets("3.11.7", ">=3.99"));
        assert!(python_meets("3.11.7", "~=3.11"));
        assert!(python_meets("3.11.7", "==3.11.*"));
        assert!(!python_meets("3.11.7", "==3.12.*"));
    }

    #[test]
    fn names_normalize_as_pep_503_says() {
        assert_eq!(normalize("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(normalize("requests"), "requests");
    }
}
