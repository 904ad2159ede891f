//! The wheels of a hashed requirements file: for each pinned release, its files whose
//! sha256 the line accepts, found on the workspace's PEP 503 indexes (tried in order)
//! or in a `--distdir`, and remembered in the cache (`index/`) so that later commands,
//! `--offline` ones too, ask no index again. The index says which file is which; the
//! requirements file alone says which bytes are acceptable.

use std::io::Read;

use release::Digest;
use rules::pylock::{Interpreter, Wheel, wheel_tags};
use rules::pyreq::{Pinned, page_links, wheel_of};
use serde::{Deserialize, Serialize};

use crate::cache::Cache;
use crate::error::{Code, Result, hinted};
use crate::fetch::FetchOptions;

/// The largest index page read (PyPI's pages for the busiest projects are a few MiB).
const PAGE_LIMIT: u64 = 64 << 20;
/// The longest an index page may take to arrive, however slowly it trickles in.
const PAGE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);
/// File names listed in an error, at most.
const LISTED: usize = 8;

/// What is remembered of one release: its acceptable wheels.
#[derive(Serialize, Deserialize)]
struct Record {
    schema: u32,
    wheels: Vec<Found>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Found {
    file: String,
    /// Where the file is, best first: one URL per index that lists it.
    urls: Vec<String>,
    sha256: Digest,
}

pub struct Index<'a> {
    opts: &'a FetchOptions,
    cache: Option<Cache>,
    client: Option<reqwest::blocking::Client>,
}

impl<'a> Index<'a> {
    pub fn new(opts: &'a FetchOptions) -> Index<'a> {
        Index {
            opts,
            cache: None,
            client: None,
        }
    }

    /// `p` (one of the lock `place`, as `FILE:LINE`) as a lock entry: its wheels from
    /// the cache, a `--distdir` or the indexes `urls`. Never without wheels: no wheel
    /// is an error.
    ///
    /// What the cache remembers is used as long as the wheel it picks for `interp` is
    /// in the CAS (so the bytes were checked), and by `--offline` builds; otherwise the
    /// release is looked up again, since its file must be fetched anyway, and the URLs
    /// remembered may be stale (a removed `--distdir`, a moved file, a wrong one).
    pub fn entry(
        &mut self,
        urls: &[String],
        p: &Pinned,
        interp: &Interpreter,
        place: &str,
    ) -> Result<rules::pylock::Locked> {
        if self.cache.is_none() {
            self.cache = Some(Cache::open()?);
        }
        let cache = self.cache.as_ref().expect("just opened");
        let record = cache.root().join("index").join(key(urls, p).hex());
        let fits = |w: &[Found]| {
            let l = locked(p, w);
            interp.choose(&l).map(|w| w.sha256)
        };
        let remembered: Option<Vec<Found>> = fs_err::read(&record)
            .ok()
            .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
            .filter(|r| r.schema == 2)
            .map(|r| r.wheels);
        if let Some(w) = &remembered
            && (self.opts.offline || fits(w).is_some_and(|d| cache.cas_path(&d).is_file()))
        {
            return Ok(locked(p, w));
        }
        let mut found = self.in_distdirs(p)?;
        if fits(&found).is_none() {
            if self.opts.offline {
                return Err(hinted(
                    Code::Env,
                    format!(
                        "{place}: {}=={} is not resolved yet (which file of it is which) and --offline was given",
                        p.name, p.version
                    ),
                    "run `kiln fetch` once with network access, or pass --distdir DIR holding its wheel",
                ));
            }
            found = self.on_indexes(urls, p, place)?;
        }
        let bytes = serde_json::to_vec(&Record {
            schema: 2,
            wheels: found.clone(),
        })?;
        self.cache
            .as_ref()
            .expect("opened above")
            .write_small(&record, &bytes)?;
        Ok(locked(p, &found))
    }

    /// The files of `p` in the `--distdir`s whose sha256 it accepts (regular files
    /// only: a link there is not followed).
    fn in_distdirs(&self, p: &Pinned) -> Result<Vec<Found>> {
        let mut out = Vec::new();
        for dir in &self.opts.distdirs {
            let Ok(entries) = fs_err::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                if !wheel_of(&file, &p.name, &p.version)
                    || !e.file_type().is_ok_and(|t| t.is_file())
                {
                    continue;
                }
                let path = std::path::absolute(e.path())?;
                let (_, sha256) = crate::cache::hash_file(&path)?;
                if p.hashes.contains(&sha256) {
                    out.push(Found {
                        urls: vec![format!("file://{}", path.display())],
                        file,
                        sha256,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The wheels of `p` with a pinned hash on every index of `urls` that answers, each
    /// file with the URL of every index that lists it (mirrors, in order).
    fn on_indexes(&mut self, urls: &[String], p: &Pinned, place: &str) -> Result<Vec<Found>> {
        let mut why = Vec::new();
        let mut mismatch = false;
        let mut found: Vec<Found> = Vec::new();
        for base in urls {
            let page = format!("{base}/{}/", p.name);
            let (final_url, html) = match self.page(&page) {
                Ok(got) => got,
                Err(e) => {
                    why.push(format!("{page}: {e}"));
                    continue;
                }
            };
            let c = candidates(&final_url, &html, p);
            for f in c.found {
                match found.iter_mut().find(|g| g.sha256 == f.sha256) {
                    Some(g) => g.urls.extend(f.urls),
                    None => found.push(f),
                }
            }
            if !found.is_empty() {
                continue;
            }
            let skipped = match c.skipped {
                0 => String::new(),
                n => format!(" ({n} link(s) to other than http(s) not followed)"),
            };
            why.push(if !c.unhashed.is_empty() {
                format!(
                    "{page}: its links give no sha256 for {} (kiln needs PEP 503 #sha256= fragments){skipped}",
                    listed(&c.unhashed)
                )
            } else if !c.other.is_empty() {
                mismatch = true;
                format!(
                    "{page}: its wheels of {} have other hashes than pinned: {}{skipped}",
                    p.version,
                    listed(&c.other)
                )
            } else {
                format!("{page}: no wheel of version {}{skipped}", p.version)
            });
        }
        if !found.is_empty() {
            return Ok(found);
        }
        let says = format!(
            "{place}: found no wheel of {}=={} with a pinned hash:\n  {}",
            p.name,
            p.version,
            why.join("\n  ")
        );
        Err(if mismatch {
            hinted(
                Code::Failed,
                says,
                "nothing was cached; if the index's files are the ones you want, compile the requirements again (--generate-hashes), otherwise the index serves other files than were locked",
            )
        } else {
            hinted(
                Code::Env,
                says,
                "check index_url in WORKSPACE.toml and the network; a release with only a source distribution needs a wheel built and served by your index",
            )
        })
    }

    /// GET an index page (retried when the failure may pass), within [`PAGE_LIMIT`]
    /// bytes and [`PAGE_DEADLINE`]: its final URL and text.
    fn page(&mut self, url: &str) -> std::result::Result<(reqwest::Url, String), String> {
        if self.client.is_none() {
            self.client = Some(crate::fetch::client().map_err(|e| e.to_string())?);
        }
        let client = self.client.as_ref().expect("just set");
        use plumbing::retry::{Attempt, GaveUp, retry};
        retry(|| {
            let started = std::time::Instant::now();
            let mut resp = match client
                .get(url)
                .header(
                    reqwest::header::ACCEPT,
                    "application/vnd.pypi.simple.v1+html, text/html;q=0.1",
                )
                .send()
            {
                Ok(r) => r,
                Err(e) => return Attempt::Transient(store::describe_http_error(e)),
            };
            let status = resp.status();
            if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Attempt::Transient(format!("HTTP {status}"));
            }
            if !status.is_success() {
                return Attempt::Fatal(format!("HTTP {status}"));
            }
            let final_url = resp.url().clone();
            let mut body = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                if started.elapsed() > PAGE_DEADLINE {
                    return Attempt::Fatal(format!(
                        "the page did not arrive within {}s",
                        PAGE_DEADLINE.as_secs()
                    ));
                }
                match resp.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => body.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Attempt::Transient(format!("reading the page: {e}")),
                }
                if body.len() as u64 > PAGE_LIMIT {
                    return Attempt::Fatal(format!("the page is larger than {PAGE_LIMIT} bytes"));
                }
            }
            Attempt::Done((final_url, String::from_utf8_lossy(&body).into_owned()))
        })
        .map_err(|g| match g {
            GaveUp::Fatal(e) | GaveUp::Exhausted(e) => e,
        })
    }
}

/// At most [`LISTED`] names, then how many more.
fn listed(names: &[String]) -> String {
    let mut out = names
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        out.push_str(&format!(" and {} more", names.len() - LISTED));
    }
    out
}

/// What an index page has for a release.
#[derive(Default)]
struct Candidates {
    /// Wheels with a pinned sha256.
    found: Vec<Found>,
    /// Names of its wheels without a sha256, and with another.
    unhashed: Vec<String>,
    other: Vec<String>,
    /// Links to other than http(s), not followed.
    skipped: usize,
}

/// The links of an index page that are wheels of `p`.
fn candidates(page: &reqwest::Url, html: &str, p: &Pinned) -> Candidates {
    let mut c = Candidates::default();
    for link in page_links(html) {
        let Ok(url) = page.join(&link.href) else {
            continue;
        };
        // A page may point only at files on the web, never at this machine's.
        if !matches!(url.scheme(), "http" | "https") {
            c.skipped += 1;
            continue;
        }
        let file = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .and_then(percent_decoded)
            .unwrap_or_default();
        // A wheel's name is letters, digits and `._+!-`: nothing else (a terminal
        // escape, a newline) gets as far as a message.
        let plain = file
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._+!-".contains(ch));
        if !plain || !wheel_of(&file, &p.name, &p.version) {
            continue;
        }
        let sha = url
            .fragment()
            .and_then(|f| f.split('&').find_map(|kv| kv.strip_prefix("sha256=")))
            .and_then(|h| h.to_ascii_lowercase().parse::<Digest>().ok());
        let mut bare = url.clone();
        bare.set_fragment(None);
        match sha {
            // Its tags are expanded only for a pinned file (the name is the index's).
            Some(sha256) if p.hashes.contains(&sha256) => {
                if wheel_tags(&file).is_some() && !c.found.iter().any(|f| f.sha256 == sha256) {
                    c.found.push(Found {
                        file,
                        urls: vec![bare.to_string()],
                        sha256,
                    });
                }
            }
            Some(_) => c.other.push(file),
            None => c.unhashed.push(file),
        }
    }
    c
}

/// `%XX` escapes of a URL path segment decoded; None when that is not UTF-8 or it
/// would hold a `/`.
pub fn percent_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|f| !f.contains('/'))
}

/// `p` as a lock entry with the wheels `found`.
fn locked(p: &Pinned, found: &[Found]) -> rules::pylock::Locked {
    rules::pylock::Locked {
        name: p.name.clone(),
        version: Some(p.version.clone()),
        marker: p.marker.clone(),
        wheels: found
            .iter()
            .filter_map(|f| {
                Some(Wheel {
                    url: f.urls.first()?.clone(),
                    mirrors: f.urls[1..].to_vec(),
                    file: f.file.clone(),
                    sha256: f.sha256,
                    tags: wheel_tags(&f.file)?,
                })
            })
            .collect(),
        dependencies: None,
        span: p.span.clone(),
    }
}

/// What a remembered resolution is of: the indexes, the release, its hashes.
fn key(urls: &[String], p: &Pinned) -> Digest {
    let mut hashes: Vec<String> = p.hashes.iter().map(|h| h.hex()).collect();
    hashes.sort();
    Digest::of_bytes(
        format!(
            "kiln-index-v1\n{}\n{}\n{}\n{}\n",
            urls.join(" "),
            p.name,
            p.version,
            hashes.join(" ")
        )
        .as_bytes(),
    )
}
