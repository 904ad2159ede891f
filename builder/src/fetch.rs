//! Pinned archives: `--distdir` copies first, then each url in order (mirrors), with
//! timeouts and bounded retries with backoff, hashing as bytes arrive. A download goes
//! to `tmp/<sha256>.partial` (resumed with a Range request) and enters the CAS only
//! once its sha256 matches the pin.

use fs_err::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use release::{Digest, Hasher};

use crate::cache::{Cache, HashingWriter};
use crate::error::{Code, Result, env_failed, hinted};
use crate::ui::Ui;
use crate::workspace::{Archive, Workspace, local_path};

pub struct FetchOptions {
    pub offline: bool,
    pub distdirs: Vec<PathBuf>,
}

/// Why one url did not give us the file.
enum Failure {
    /// Worth another attempt at the same url (5xx, 429, connection or read errors).
    Transient(String),
    /// Move on to the next url (4xx, missing local file).
    Permanent(String),
    /// The bytes arrived but are not the pinned ones: stop, this is an error.
    Mismatch { actual: Digest },
}

pub struct Fetcher<'a> {
    cache: &'a Cache,
    ws: &'a Workspace,
    opts: &'a FetchOptions,
    ui: Ui,
    client: Option<reqwest::blocking::Client>,
}

impl<'a> Fetcher<'a> {
    pub fn new(cache: &'a Cache, ws: &'a Workspace, opts: &'a FetchOptions, ui: Ui) -> Self {
        Fetcher {
            cache,
            ws,
            opts,
            ui,
            client: None,
        }
    }

    /// The CAS path of the archive's verified bytes, fetching them if needed.
    pub fn ensure(&mut self, a: &Archive) -> Result<PathBuf> {
        let dest = self.cache.cas_path(&a.sha256);
        if dest.is_file() {
            return Ok(dest);
        }
        // Serialize concurrent kiln processes on the same archive; the rename is what
        // makes the result correct, the lock only saves duplicate downloads.
        let lock_path = self.cache.tmp_dir().join(format!("{}.lock", a.sha256));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        lock.lock()?;
        if dest.is_file() {
            return Ok(dest);
        }
        let partial = self.cache.tmp_dir().join(format!("{}.partial", a.sha256));

        for dir in &self.opts.distdirs {
            for url in &a.urls {
                // The file's name as a directory holds it: `%2B` is `+` (local versions).
                let Some(name) = url
                    .rsplit('/')
                    .next()
                    .and_then(crate::pyindex::percent_decoded)
                    .filter(|n| !n.is_empty() && n != "." && n != "..")
                else {
                    continue;
                };
                let candidate = dir.join(name);
                // The directory's own files: a link there is not followed.
                if fs_err::symlink_metadata(&candidate).is_ok_and(|m| m.is_file()) {
                    self.ui
                        .detail(format!("Using @{} from {}", a.name, candidate.display()));
                    return match self.copy_local(&candidate, &partial, a)? {
                        None => self.cache.insert_file(&partial, &a.sha256),
                        Some(actual) => {
                            Err(self.mismatch(a, &candidate.display().to_string(), &actual))
                        }
                    };
                }
            }
        }
        if self.opts.offline {
            return Err(hinted(
                Code::Env,
                format!(
                    "archive @{} is not in the cache and --offline was given",
                    a.name
                ),
                "run `kiln fetch` once with network access, or pass --distdir DIR holding the file",
            ));
        }

        let mut errors = Vec::new();
        for url in &a.urls {
            match self.fetch_url(url, &partial, a) {
                Ok(()) => {
                    self.ui
                        .detail(format!("kiln: fetched @{} from {url}", a.name));
                    return self.cache.insert_file(&partial, &a.sha256);
                }
                Err(Failure::Mismatch { actual }) => return Err(self.mismatch(a, url, &actual)),
                Err(Failure::Transient(e) | Failure::Permanent(e)) => {
                    self.ui.detail(format!("{url}: {e}"));
                    errors.push(format!("{url}: {e}"));
                }
            }
        }
        Err(hinted(
            Code::Env,
            format!(
                "could not fetch archive @{} from any of its {} url(s):\n  {}",
                a.name,
                a.urls.len(),
                errors.join("\n  ")
            ),
            match &a.pinned_in {
                Some(lock) => format!("check the network and where {lock} says the wheel is (its url, or the index it names), or pass --distdir DIR holding the file"),
                None => "check the network and the urls in WORKSPACE.toml, or pass --distdir DIR holding the file".to_string(),
            },
        ))
    }

    fn mismatch(&self, a: &Archive, source: &str, actual: &Digest) -> anyhow::Error {
        // A file:// pin may name any file of the machine: its digest is not printed
        // unless the file lies in the workspace (a build log is no oracle for host files).
        let outside = local_path(&self.ws.root, source)
            .is_some_and(|p| !p.canonicalize().is_ok_and(|p| p.starts_with(&self.ws.root)));
        let actual = if outside {
            "(not shown: the file lies outside the workspace)".to_string()
        } else {
            actual.to_string()
        };
        let (place, fix) = match &a.pinned_in {
            Some(lock) => (lock.clone(), "lock it again"),
            None => (
                self.ws.place(a.span.start),
                "update sha256 in WORKSPACE.toml",
            ),
        };
        hinted(
            Code::Failed,
            format!(
                "sha256 mismatch for archive @{}\n  url:      {source}\n  expected: {}\n  actual:   {actual}\n  pinned at {place}",
                a.name, a.sha256,
            ),
            format!(
                "nothing was cached; if the new bytes are the ones you want, {fix}, otherwise the source serves the wrong file"
            ),
        )
    }

    /// Copy a local file into `partial`, hashing it. Returns the actual digest on mismatch.
    fn copy_local(&self, src: &Path, partial: &Path, a: &Archive) -> Result<Option<Digest>> {
        let mut input = fs_err::File::open(src)?;
        let mut out = HashingWriter::new(File::create(partial)?);
        io::copy(&mut input, &mut out)?;
        out.inner.sync_all()?;
        let actual = out.hasher.finish();
        if actual == a.sha256 {
            Ok(None)
        } else {
            let _ = fs_err::remove_file(partial);
            Ok(Some(actual))
        }
    }

    fn fetch_url(&mut self, url: &str, partial: &Path, a: &Archive) -> Result<(), Failure> {
        if let Some(path) = local_path(&self.ws.root, url) {
            if !path.is_file() {
                return Err(Failure::Permanent(format!(
                    "no such file {}",
                    path.display()
                )));
            }
            return match self.copy_local(&path, partial, a) {
                Ok(None) => Ok(()),
                Ok(Some(actual)) => Err(Failure::Mismatch { actual }),
                Err(e) => Err(Failure::Permanent(e.to_string())),
            };
        }
        use plumbing::retry::{Attempt, GaveUp, retry};
        let mut restarted = false;
        let as_attempt = |r: Result<(), Failure>| match r {
            Ok(()) => Attempt::Done(()),
            Err(Failure::Transient(e)) => Attempt::Transient(e),
            Err(f) => Attempt::Fatal(f),
        };
        retry(|| match self.http_once(url, partial, a) {
            Err(Failure::Mismatch { actual }) => {
                // A resumed download may have continued stale bytes: try once afresh.
                let _ = fs_err::remove_file(partial);
                if restarted {
                    return Attempt::Fatal(Failure::Mismatch { actual });
                }
                restarted = true;
                let again = self.http_once(url, partial, a);
                if matches!(again, Err(Failure::Mismatch { .. })) {
                    let _ = fs_err::remove_file(partial);
                }
                as_attempt(again)
            }
            r => as_attempt(r),
        })
        .map_err(|g| match g {
            GaveUp::Fatal(f) => f,
            GaveUp::Exhausted(why) => Failure::Transient(why),
        })
    }

    /// One GET of a pinned archive.
    fn http_once(&mut self, url: &str, partial: &Path, a: &Archive) -> Result<(), Failure> {
        if self.client.is_none() {
            self.client = Some(http_client()?);
        }
        let client = self.client.as_ref().expect("just set");
        let actual = download(
            client,
            url,
            partial,
            &format!("@{}", a.name),
            a.limits.max_bytes,
            self.ui,
        )?;
        if actual != a.sha256 {
            return Err(Failure::Mismatch { actual });
        }
        Ok(())
    }
}

/// The HTTP client of every download kiln makes (timeouts, user agent).
pub fn client() -> Result<reqwest::blocking::Client> {
    http_client().map_err(|_| env_failed("cannot set up HTTP"))
}

fn http_client() -> Result<reqwest::blocking::Client, Failure> {
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Failure::Permanent(format!("cannot set up HTTP: {e}")))
}

/// `kiln sha256 URL`: download once (with the usual retries) into the CAS and return
/// the digest to pin, so the build that follows finds the archive cached.
pub fn hash_url(cache: &Cache, url: &str, ui: Ui) -> Result<Digest> {
    let client = http_client().map_err(|_| env_failed("cannot set up HTTP"))?;
    use plumbing::retry::{Attempt, GaveUp, retry};
    let partial = cache.tmp_path("download");
    let got = retry(
        || match download(&client, url, &partial, url, u64::MAX, ui) {
            Ok(d) => Attempt::Done(d),
            Err(Failure::Transient(e)) => Attempt::Transient(e),
            Err(Failure::Permanent(e)) => Attempt::Fatal(e),
            Err(Failure::Mismatch { actual }) => {
                Attempt::Transient(format!("unexpected digest {actual}"))
            }
        },
    );
    let last = match got {
        Ok(d) => {
            cache.insert_file(&partial, &d)?;
            return Ok(d);
        }
        Err(GaveUp::Fatal(why) | GaveUp::Exhausted(why)) => why,
    };
    let _ = fs_err::remove_file(&partial);
    Err(hinted(
        Code::Env,
        format!("could not download {url}: {last}"),
        "check the url and the network",
    ))
}

/// One GET into `partial`, resuming it when it holds bytes already (and the server
/// answers the Range request); hashes every byte. Returns the whole file's digest.
/// More than `max` bytes is a failure, and nothing of it is kept.
fn download(
    client: &reqwest::blocking::Client,
    url: &str,
    partial: &Path,
    what: &str,
    max: u64,
    ui: Ui,
) -> Result<Digest, Failure> {
    let io_fail = |e: io::Error| Failure::Permanent(format!("{}: {e}", partial.display()));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(partial)
        .map_err(io_fail)?;
    let have = file.metadata().map_err(io_fail)?.len();
    let mut req = client.get(url);
    if have > 0 {
        req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let mut resp = req
        .send()
        .map_err(|e| Failure::Transient(store::describe_http_error(e)))?;
    let status = resp.status();
    let mut hasher = Hasher::new();
    let resumed = status == reqwest::StatusCode::PARTIAL_CONTENT
        && have > 0
        && content_range_start(&resp) == Some(have);
    if resumed {
        file.rewind().map_err(io_fail)?;
        io::copy(&mut (&mut file).take(have), &mut hasher).map_err(io_fail)?;
        file.seek(io::SeekFrom::End(0)).map_err(io_fail)?;
    } else if status.is_success() {
        file.set_len(0).map_err(io_fail)?;
        file.rewind().map_err(io_fail)?;
    } else if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        file.set_len(0).map_err(io_fail)?;
        return Err(Failure::Transient(
            "server refused to resume; starting over".into(),
        ));
    } else if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(Failure::Transient(format!("HTTP {status}")));
    } else {
        return Err(Failure::Permanent(format!("HTTP {status}")));
    }
    let total = resp.content_length().map(|n| n + hasher.len());
    let bar = ui.bytes_bar(&format!("Fetching {what}"), total);
    bar.set_position(hasher.len());
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.finish_and_clear();
                let _ = file.sync_all();
                return Err(Failure::Transient(format!(
                    "connection lost after {} bytes: {e}",
                    hasher.len()
                )));
            }
        };
        file.write_all(&buf[..n]).map_err(io_fail)?;
        hasher.update(&buf[..n]);
        bar.inc(n as u64);
        if hasher.len() > max {
            bar.finish_and_clear();
            drop(file);
            let _ = fs_err::remove_file(partial);
            return Err(Failure::Permanent(format!(
                "larger than the archive's limit of {max} bytes (max_bytes): not the file pinned"
            )));
        }
    }
    bar.finish_and_clear();
    if let Some(t) = total
        && hasher.len() < t
    {
        return Err(Failure::Transient(format!(
            "connection closed after {} of {t} bytes",
            hasher.len()
        )));
    }
    file.sync_all().map_err(io_fail)?;
    Ok(hasher.finish())
}

fn content_range_start(resp: &reqwest::blocking::Response) -> Option<u64> {
    let v = resp
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    let rest = v.strip_prefix("bytes ")?;
    rest.split('-').next()?.parse().ok()
}
