//! The WORKSPACE.toml schema: the workspace's name, its store and cache, and its pinned
//! external archives, checked and kept with their spans. Pure: the builder reads the
//! file and checks the export globs (which need a glob engine) itself.

use std::collections::BTreeMap;
use std::ops::Range;

use release::Digest;
use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;
use crate::label::validate_name;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceDef {
    #[serde(deserialize_with = "release::fields::object")]
    workspace: WorkspaceSection,
    #[serde(default, deserialize_with = "release::fields::optional_object")]
    store: Option<UrlSection>,
    #[serde(default, deserialize_with = "release::fields::optional_object")]
    cache: Option<CacheSection>,
    #[serde(default, deserialize_with = "release::fields::optional_object")]
    remote: Option<RemoteSection>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    archive: Vec<ArchiveDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    python_lock: Vec<PythonLockDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PythonLockDef {
    name: Spanned<String>,
    lock: Spanned<String>,
    index_url: Option<Spanned<OneOrMore>>,
    interpreter: Option<Spanned<String>>,
}

/// `interpreter = "@python//:bin/python3"`: the workspace's Python is a file of an
/// archive (a relocatable CPython such as python-build-standalone's), not the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpreterSpec {
    pub archive: String,
    /// The interpreter's path inside the archive (after strip_prefix).
    pub path: String,
    pub span: Range<usize>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMore {
    One(String),
    More(Vec<String>),
}

/// `[[python_lock]]`: a lock file whose distributions become archives,
/// `@NAME//DISTRIBUTION`: a PEP 751 `pylock.toml` (`pylock.*.toml`), or a hashed
/// requirements file whose wheels are found on `index_urls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonLockSpec {
    pub name: String,
    /// The lock file, relative to the workspace root.
    pub lock: String,
    pub span: Range<usize>,
    /// PEP 503 simple indexes, tried in order (a requirements file only).
    pub index_urls: Vec<String>,
}

impl PythonLockSpec {
    /// Whether the lock is a PEP 751 file (by its name, as PEP 751 names them).
    pub fn is_pylock(&self) -> bool {
        let file = self.lock.rsplit('/').next().unwrap_or("");
        file.starts_with("pylock.") && file.ends_with(".toml")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceSection {
    name: Spanned<String>,
    /// Directories (relative to the root) never searched for packages.
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlSection {
    url: String,
}

/// `[remote]`: a REAPI server that runs the actions the cache misses.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RemoteSection {
    /// `grpc://host:port` or `grpcs://host:port`; its instance is `[cache] instance`.
    pub executor: String,
    /// A server that cannot be reached: run actions here instead of failing the build.
    #[serde(default)]
    pub fallback: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheSection {
    url: String,
    signing_key: Option<String>,
    #[serde(default)]
    trusted_keys: Vec<Spanned<String>>,
    mode: Option<Spanned<String>>,
    #[serde(default)]
    instance: String,
}

/// `[cache]`: a remote build cache whose action records are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSpec {
    pub url: String,
    /// The writers' key file, relative to the workspace root (or
    /// `KILN_CACHE_SIGNING_KEY`).
    pub signing_key: Option<String>,
    /// Readers use only records one of these signed.
    pub trusted_keys: Vec<release::PublicKey>,
    /// None: read and write (the default, unless `--remote-cache-mode` says otherwise).
    pub mode: Option<CacheMode>,
    /// The REAPI instance name, for a `grpc://` or `grpcs://` url.
    pub instance: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    Read,
    ReadWrite,
}

impl CacheMode {
    pub fn parse(s: &str) -> Option<CacheMode> {
        match s {
            "read" => Some(CacheMode::Read),
            "read-write" => Some(CacheMode::ReadWrite),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveDef {
    name: Spanned<String>,
    urls: Spanned<Vec<Spanned<String>>>,
    sha256: Spanned<String>,
    strip_prefix: Option<Spanned<String>>,
    exports: Option<BTreeMap<String, Spanned<Vec<String>>>>,
    max_entries: Option<Spanned<u64>>,
    max_bytes: Option<Spanned<u64>>,
    max_ratio: Option<Spanned<u64>>,
}

/// How much one pinned archive may extract to, so a small pin cannot fill the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Entries of any kind.
    pub max_entries: u64,
    /// Bytes of file content after decompression.
    pub max_bytes: u64,
    /// Bytes extracted per byte of the archive file, checked once more than
    /// `RATIO_FLOOR` bytes were extracted (a tiny archive may expand a lot harmlessly).
    pub max_ratio: u64,
}

impl ExtractLimits {
    /// Generous for real upstream archives (a JDK is ~500 MB and 3 to 5 times its
    /// archive; source tarballs 4 to 10 times), tight for a bomb (gzip reaches 1000x).
    pub const DEFAULT: ExtractLimits = ExtractLimits {
        max_entries: 1_000_000,
        max_bytes: 16 << 30,
        max_ratio: 200,
    };
    pub const RATIO_FLOOR: u64 = 64 << 20;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSpec {
    pub name: String,
    pub urls: Vec<String>,
    pub sha256: Digest,
    pub strip_prefix: Option<String>,
    /// Export name → globs over the extracted tree. Always has `files` (default `**`).
    pub exports: BTreeMap<String, Vec<String>>,
    /// Where each declared export's globs are written.
    pub export_spans: BTreeMap<String, Range<usize>>,
    pub limits: ExtractLimits,
    /// The pin (its sha256), for messages.
    pub span: Range<usize>,
    /// Where the pin is written when it is not WORKSPACE.toml (`FILE:LINE` of a lock).
    pub pinned_in: Option<String>,
    /// A locked distribution's dependencies as its lock records them (normalized
    /// names), when it does; else its wheel's metadata says.
    pub locked_deps: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSpec {
    pub name: String,
    pub store_url: Option<String>,
    pub cache: Option<CacheSpec>,
    pub remote: Option<RemoteSection>,
    pub ignore: Vec<String>,
    pub archives: BTreeMap<String, ArchiveSpec>,
    pub python_locks: Vec<PythonLockSpec>,
    /// The Python of every Python target, if a lock pins one (default: the host's).
    pub interpreter: Option<InterpreterSpec>,
}

fn cache_spec(c: CacheSection) -> Result<CacheSpec, Diagnostic> {
    let mut trusted_keys = Vec::new();
    for k in &c.trusted_keys {
        let key = release::PublicKey::parse(k.get_ref()).map_err(|e| {
            Diagnostic::new(Some(k.span()), format!("trusted_keys: {e}")).hint(
                "paste the line of the writers' KEY.pub file, as `kiln keygen --out KEY` wrote it",
            )
        })?;
        trusted_keys.push(key);
    }
    let mode = match &c.mode {
        Some(m) => Some(CacheMode::parse(m.get_ref()).ok_or_else(|| {
            Diagnostic::new(
                Some(m.span()),
                format!("mode {:?} is not a cache mode", m.get_ref()),
            )
            .hint("use \"read\" (never write: for pull requests) or \"read-write\"")
        })?),
        None => None,
    };
    Ok(CacheSpec {
        url: c.url,
        signing_key: c.signing_key,
        trusted_keys,
        mode,
        instance: c.instance,
    })
}

pub fn parse_workspace_file(text: &str) -> Result<WorkspaceSpec, Diagnostic> {
    let def: WorkspaceDef = toml::from_str(text).map_err(|e| Diagnostic::from_toml(&e))?;
    let err = |span: Range<usize>, msg: String| Diagnostic::new(Some(span), msg);
    let name = def.workspace.name.get_ref().clone();
    validate_name(&name).map_err(|e| err(def.workspace.name.span(), e))?;
    let mut archives = BTreeMap::new();
    for a in def.archive {
        let name = a.name.get_ref().clone();
        validate_name(&name).map_err(|e| err(a.name.span(), e))?;
        // `+` joins a lock's name and a distribution's (`pypi+click`): an archive of
        // that name would be replaced by the lock's wheel without a word.
        if name.contains('+') {
            return Err(err(
                a.name.span(),
                format!(
                    "archive name {name:?}: '+' is reserved for the distributions of a [[python_lock]]"
                ),
            ));
        }
        if name == "_main" {
            return Err(err(
                a.name.span(),
                "archive name \"_main\" is the workspace's own place in runfiles/".into(),
            ));
        }
        if archives.contains_key(&name) {
            return Err(err(
                a.name.span(),
                format!("duplicate archive name {name:?}"),
            ));
        }
        let sha256: Digest = a.sha256.get_ref().parse().map_err(|e| {
            Diagnostic::new(Some(a.sha256.span()), format!("sha256: {e}"))
                .hint("paste the archive's sha256 as printed by `sha256sum FILE`")
        })?;
        if a.urls.get_ref().is_empty() {
            return Err(err(a.urls.span(), format!("archive {name:?} has no urls")));
        }
        for u in a.urls.get_ref() {
            let ok = ["https://", "http://", "file://"]
                .iter()
                .any(|s| u.get_ref().starts_with(s));
            if !ok {
                return Err(err(
                    u.span(),
                    format!(
                        "{:?} is not a URL kiln can fetch: use https://, http:// or file://",
                        u.get_ref()
                    ),
                ));
            }
        }
        let strip_prefix = match a.strip_prefix {
            Some(p) => Some(
                release::normalize_relative(p.get_ref())
                    .map_err(|why| err(p.span(), format!("strip_prefix: {why}")))?,
            )
            .filter(|p| !p.is_empty()),
            None => None,
        };
        let mut limits = ExtractLimits::DEFAULT;
        for (field, value, slot) in [
            ("max_entries", a.max_entries, &mut limits.max_entries),
            ("max_bytes", a.max_bytes, &mut limits.max_bytes),
            ("max_ratio", a.max_ratio, &mut limits.max_ratio),
        ] {
            if let Some(v) = value {
                if *v.get_ref() == 0 {
                    return Err(Diagnostic::new(
                        Some(v.span()),
                        format!("{field} must be at least 1"),
                    )
                    .hint(format!("remove {field} to use the default, or raise it")));
                }
                *slot = v.into_inner();
            }
        }
        let mut exports = BTreeMap::new();
        let mut export_spans = BTreeMap::new();
        for (export, globs) in a.exports.unwrap_or_default() {
            validate_name(&export).map_err(|e| err(globs.span(), e))?;
            export_spans.insert(export.clone(), globs.span());
            exports.insert(export, globs.into_inner());
        }
        exports
            .entry("files".to_string())
            .or_insert_with(|| vec!["**".to_string()]);
        archives.insert(
            name.clone(),
            ArchiveSpec {
                name,
                urls: a
                    .urls
                    .into_inner()
                    .into_iter()
                    .map(|u| u.into_inner())
                    .collect(),
                sha256,
                strip_prefix,
                exports,
                export_spans,
                limits,
                span: a.sha256.span(),
                pinned_in: None,
                locked_deps: None,
            },
        );
    }
    let mut python_locks: Vec<PythonLockSpec> = Vec::new();
    let mut interpreter: Option<InterpreterSpec> = None;
    for l in def.python_lock {
        if let Some(i) = &l.interpreter {
            let spec = interpreter_spec(i, &archives)?;
            if let Some(first) = &interpreter
                && (first.archive != spec.archive || first.path != spec.path)
            {
                return Err(err(
                    i.span(),
                    "a workspace has one Python: this interpreter differs from the one another python_lock names".to_string(),
                ));
            }
            interpreter = Some(spec);
        }
        let name = l.name.get_ref().clone();
        validate_name(&name).map_err(|e| err(l.name.span(), e))?;
        // `+` joins a lock's name and a distribution's in the archive's name.
        if name.contains('+')
            || archives.contains_key(&name)
            || python_locks.iter().any(|p| p.name == name)
        {
            return Err(err(
                l.name.span(),
                format!(
                    "python_lock name {name:?} is taken (by an archive or a lock), or has a '+'"
                ),
            ));
        }
        let lock = release::normalize_relative(l.lock.get_ref())
            .map_err(|why| err(l.lock.span(), format!("lock: {why}")))?;
        let mut spec = PythonLockSpec {
            name,
            lock,
            span: l.lock.span(),
            index_urls: Vec::new(),
        };
        match (&l.index_url, spec.is_pylock()) {
            (Some(u), true) => {
                return Err(err(
                    u.span(),
                    "index_url is for a hashed requirements file; a pylock.toml names its wheels' URLs itself".to_string(),
                ));
            }
            (None, false) => {
                return Err(Diagnostic::new(
                    Some(l.lock.span()),
                    format!(
                        "lock {:?} is a requirements file (a PEP 751 lock is named pylock.toml or pylock.NAME.toml), so it needs index_url",
                        spec.lock
                    ),
                )
                .hint("add index_url = \"https://pypi.org/simple\" (your index or mirrors, tried in order), or lock to pylock.toml"));
            }
            (Some(u), false) => {
                let urls = match u.get_ref() {
                    OneOrMore::One(s) => vec![s.clone()],
                    OneOrMore::More(v) => v.clone(),
                };
                if urls.is_empty() {
                    return Err(err(u.span(), "index_url names no index".to_string()));
                }
                for url in &urls {
                    let rest = url
                        .strip_prefix("https://")
                        .or_else(|| url.strip_prefix("http://"));
                    if rest.is_none_or(|r| r.is_empty() || r.contains(['#', '?', ' '])) {
                        return Err(err(
                            u.span(),
                            format!(
                                "index_url {url:?} is not an http(s) URL of a PEP 503 simple index"
                            ),
                        ));
                    }
                    // user:token@host: WORKSPACE.toml is committed and kiln prints URLs.
                    if rest.is_some_and(|r| r.split('/').next().unwrap_or("").contains('@')) {
                        return Err(Diagnostic::new(
                            Some(u.span()),
                            "index_url carries credentials (USER:TOKEN@): WORKSPACE.toml is committed and its URLs are printed",
                        )
                        .hint("name an index that needs no credentials (a mirror inside your network); kiln sends no index credentials"));
                    }
                }
                spec.index_urls = urls
                    .into_iter()
                    .map(|u| u.trim_end_matches('/').to_string())
                    .collect();
            }
            (None, true) => {}
        }
        python_locks.push(spec);
    }
    Ok(WorkspaceSpec {
        name,
        python_locks,
        interpreter,
        store_url: def.store.map(|s| s.url),
        cache: def.cache.map(cache_spec).transpose()?,
        remote: def.remote,
        ignore: def.workspace.ignore,
        archives,
    })
}

/// `@ARCHIVE//:PATH`, ARCHIVE an `[[archive]]` of the workspace.
fn interpreter_spec(
    i: &Spanned<String>,
    archives: &BTreeMap<String, ArchiveSpec>,
) -> Result<InterpreterSpec, Diagnostic> {
    let bad = |m: String| {
        Diagnostic::new(Some(i.span()), m).hint(
            "name a file of an [[archive]] holding a relocatable CPython, e.g. interpreter = \"@python//:bin/python3\"",
        )
    };
    let (archive, path) = i
        .get_ref()
        .strip_prefix('@')
        .and_then(|r| r.split_once("//:"))
        .ok_or_else(|| {
            bad(format!(
                "interpreter {:?} is not @ARCHIVE//:PATH",
                i.get_ref()
            ))
        })?;
    if !archives.contains_key(archive) {
        return Err(bad(format!(
            "interpreter {:?}: no [[archive]] named {archive:?} in WORKSPACE.toml",
            i.get_ref()
        )));
    }
    let path = release::normalize_relative(path)
        .map_err(|why| bad(format!("interpreter {:?}: {why}", i.get_ref())))?;
    // The path goes into shell launchers: plain characters only.
    if path.is_empty()
        || !path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+/-".contains(c))
    {
        return Err(bad(format!(
            "interpreter {:?}: the path may hold only letters, digits and . _ + / -",
            i.get_ref()
        )));
    }
    // All of it travels with the tools: a narrowed `files` would leave the standard
    // library behind, and the host's would be used instead.
    if archives[archive].exports.get("files").map(Vec::as_slice) != Some(&["**".to_string()][..]) {
        return Err(bad(format!(
            "interpreter {:?}: the archive's files export must be all of it (files = [\"**\"]): the tools carry the whole interpreter",
            i.get_ref()
        )));
    }
    Ok(InterpreterSpec {
        archive: archive.to_string(),
        path,
        span: i.span(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_and_mode_are_checked_at_their_line() {
        let key = release::SecretKey::from_seed([3; 32]).public().to_string();
        let ok = format!(
            "[workspace]\nname = \"ops\"\n[cache]\nurl = \"s3://b/c\"\nsigning_key = \"ci-cache.key\"\ntrusted_keys = [\"{key}\"]\nmode = \"read\"\n"
        );
        let c = parse_workspace_file(&ok).unwrap().cache.unwrap();
        assert_eq!(c.mode, Some(CacheMode::Read));
        assert_eq!(c.trusted_keys.len(), 1);
        assert_eq!(c.signing_key.as_deref(), Some("ci-cache.key"));
        let bad_key = ok.replace(&key, "kiln-ed25519:nope");
        let d = parse_workspace_file(&bad_key).unwrap_err();
        assert!(d.message.contains("trusted_keys"), "{}", d.message);
        assert_eq!(crate::line_col(&bad_key, d.span.unwrap().start).0, 6);
        let bad_mode = ok.replace("\"read\"", "\"write\"");
        let d = parse_workspace_file(&bad_mode).unwrap_err();
        assert!(d.message.contains("not a cache mode"), "{}", d.message);
        assert_eq!(crate::line_col(&bad_mode, d.span.unwrap().start).0, 7);
    }

    #[test]
    fn parses_and_checks_archives() {
        let sha = "07692257575fe54ddb8a8f64e96d3d352f2f533aa91b5752be1869d2acf2f544";
        let text = format!(
            "[workspace]\nname = \"ops\"\n[[archive]]\nname = \"solr\"\nurls = [\"https://x/solr.tgz\"]\nsha256 = \"{sha}\"\nstrip_prefix = \"./solr-6.3.0/\"\n"
        );
        let ws = parse_workspace_file(&text).unwrap();
        let a = &ws.archives["solr"];
        assert_eq!(a.strip_prefix.as_deref(), Some("solr-6.3.0"));
        assert_eq!(a.exports["files"], vec!["**".to_string()]);
        let bad = text.replace("./solr-6.3.0/", "../x");
        assert!(
            parse_workspace_file(&bad)
                .unwrap_err()
                .message
                .contains("'..'")
        );
        let bad = text.replace("https://x", "ftp://x");
        assert!(
            parse_workspace_file(&bad)
                .unwrap_err()
                .message
                .contains("not a URL")
        );
        for bad in [
            "workspace = [\"ops\"]\n".to_string(),
            format!(
                "archive = [[\"a\", [\"https://x\"], \"{sha}\"]]\n[workspace]\nname = \"ops\"\n"
            ),
            "store = [\"file:///srv\"]\n[workspace]\nname = \"ops\"\n".to_string(),
        ] {
            let e = parse_workspace_file(&bad).unwrap_err();
            assert!(
                e.message.contains("expected named fields"),
                "{bad}: {}",
                e.message
            );
        }
    }
}
