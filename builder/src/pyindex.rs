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

/// What is remembered of one release: its acceptable wheels.
#[derive(Serialize, Deserialize)]
struct Record {
    schema: u32,
    wheels: Vec<Found>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Found {
    file: String,
    url: String,
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

    /// The wheels of `p` (one of the lock `place`, as `FILE:LINE`), from the cache, a
    /// `--distdir` or an index of `urls`. Empty never: no wheel is an error.
    pub fn wheels(
        &mut self,
        urls: &[String],
        p: &Pinned,
        interp: &Interpreter,
        place: &str,
    ) -> Result<Vec<Wheel>> {
        if self.cache.is_none() {
            self.cache = Some(Cache::open()?);
        }
        let record = self
            .cache
            .as_ref()
            .expect("just opened")
            .root()
            .join("index")
            .join(key(urls, p).hex());
        let fits = |w: &[Found]| {
            let l = locked(p, w);
            !l.wheels.is_empty() && interp.choose(&l).is_some()
        };
        let remembered: Option<Vec<Found>> = fs_err::read(&record)
            .ok()
            .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
            .filter(|r| r.schema == 1)
            .map(|r| r.wheels);
        if let Some(w) = &remembered
            && (fits(w) || self.opts.offline)
        {
            return Ok(locked(p, w).wheels);
        }
        let mut found = self.in_distdirs(p)?;
        if found.is_empty() || !fits(&found) {
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
            schema: 1,
            wheels: found.clone(),
        })?;
        self.cache
            .as_ref()
            .expect("opened above")
            .write_small(&record, &bytes)?;
        Ok(locked(p, &found).wheels)
    }

    /// The files of `p` in the `--distdir`s whose sha256 it accepts.
    fn in_distdirs(&self, p: &Pinned) -> Result<Vec<Found>> {
        let mut out = Vec::new();
        for dir in &self.opts.distdirs {
            let Ok(entries) = fs_err::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                if !wheel_of(&file, &p.name, &p.version) {
                    continue;
                }
                let path = std::path::absolute(e.path())?;
                // Not through a link: the distdir's own files.
                if !fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    continue;
                }
                let (_, sha256) = crate::cache::hash_file(&path)?;
                if p.hashes.contains(&sha256) {
                    out.push(Found {
                        url: format!("file://{}", path.display()),
                        file,
                        sha256,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The wheels of `p` on the first index of `urls` that has any with a pinned hash.
    fn on_indexes(&mut self, urls: &[String], p: &Pinned, place: &str) -> Result<Vec<Found>> {
        let mut why = Vec::new();
        let mut mismatch = false;
        for base in urls {
            let page = format!("{base}/{}/", p.name);
            match self.page(&page) {
                Ok((final_url, html)) => {
                    let (found, unhashed, other) = candidates(&final_url, &html, p);
                    if !found.is_empty() {
                        return Ok(found);
                    }
                    why.push(if !unhashed.is_empty() {
                        format!(
                            "{page}: its links give no sha256 for {} (kiln needs PEP 503 #sha256= fragments)",
                            unhashed.join(", ")
                        )
                    } else if !other.is_empty() {
                        mismatch = true;
                        format!(
                            "{page}: its wheels of {} have other hashes than pinned: {}",
                            p.version,
                            other.join(", ")
                        )
                    } else {
                        format!("{page}: no wheel of version {}", p.version)
                    });
                }
                Err(e) => why.push(format!("{page}: {e}")),
            }
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

    /// GET an index page (retried when the failure may pass): its final URL and text.
    fn page(&mut self, url: &str) -> std::result::Result<(reqwest::Url, String), String> {
        if self.client.is_none() {
            self.client = Some(crate::fetch::client().map_err(|e| e.to_string())?);
        }
        let client = self.client.as_ref().expect("just set");
        use plumbing::retry::{Attempt, GaveUp, retry};
        retry(|| {
            let resp = match client
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
            if let Err(e) = resp.take(PAGE_LIMIT + 1).read_to_end(&mut body) {
                return Attempt::Transient(format!("reading the page: {e}"));
            }
            if body.len() as u64 > PAGE_LIMIT {
                return Attempt::Fatal(format!("the page is larger than {PAGE_LIMIT} bytes"));
            }
            Attempt::Done((final_url, String::from_utf8_lossy(&body).into_owned()))
        })
        .map_err(|g| match g {
            GaveUp::Fatal(e) | GaveUp::Exhausted(e) => e,
        })
    }
}

/// The links of an index page that are wheels of `p`: those with a pinned sha256, the
/// names of those without a sha256, and the names of those with another.
fn candidates(
    page: &reqwest::Url,
    html: &str,
    p: &Pinned,
) -> (Vec<Found>, Vec<String>, Vec<String>) {
    let (mut found, mut unhashed, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for link in page_links(html) {
        let Ok(url) = page.join(&link.href) else {
            continue;
        };
        // A page may point only at files on the web, never at this machine's.
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let file = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("")
            .to_string();
        let file = match percent_decoded(&file) {
            Some(f) => f,
            None => continue,
        };
        if !wheel_of(&file, &p.name, &p.version) || wheel_tags(&file).is_none() {
            continue;
        }
        let sha = url
            .fragment()
            .and_then(|f| f.split('&').find_map(|kv| kv.strip_prefix("sha256=")))
            .and_then(|h| h.to_ascii_lowercase().parse::<Digest>().ok());
        let mut bare = url.clone();
        bare.set_fragment(None);
        match sha {
            Some(sha256) if p.hashes.contains(&sha256) => found.push(Found {
                file,
                url: bare.to_string(),
                sha256,
            }),
            Some(_) => other.push(file),
            None => unhashed.push(file),
        }
    }
    (found, unhashed, other)
}

/// `%XX` escapes of a URL path segment decoded; None when that is not UTF-8 or it
/// would hold a `/`.
fn percent_decoded(s: &str) -> Option<String> {
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
                    url: f.url.clone(),
                    file: f.file.clone(),
                    sha256: f.sha256,
                    tags: wheel_tags(&f.file)?,
                })
            })
            .collect(),
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
