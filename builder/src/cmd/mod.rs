//! One module per command. Each takes its parsed arguments and the [`Context`] and
//! returns one output value (`plumbing::output::Output`) that renders both the human
//! text and the JSON object; `main.rs` parses and dispatches, nothing more.

pub mod build;
pub mod clean;
pub mod completions;
pub mod fetch;
pub mod gc;
pub mod keygen;
pub mod keys;
pub mod promote;
pub mod publish;
pub mod query;
pub mod releases;
pub mod sha256;
pub mod status;
pub mod test;
pub mod worker;

use std::path::PathBuf;

use plumbing::flags::GlobalFlags;

use crate::cache::Cache;
use crate::engine::Session;
use crate::error::{Result, bad_input};
use crate::fetch::FetchOptions;
use crate::load::Graph;
use crate::ui::Ui;
use crate::workspace::Workspace;

/// The flags of the commands that build.
#[derive(clap::Args, Clone)]
pub struct BuildFlags {
    /// Use only archives already in the cache (or in a --distdir).
    #[arg(long, global = true)]
    pub offline: bool,
    /// A directory of archive files, looked up by file name before any download.
    #[arg(long, global = true, value_name = "DIR")]
    pub distdir: Vec<PathBuf>,
    /// How many actions run at once; default the number of cores.
    #[arg(short = 'j', long = "jobs", global = true, value_name = "N")]
    pub jobs: Option<usize>,
    /// Where actions run: `linux` (namespaces; the default) or `none` (no isolation).
    #[arg(long, global = true, value_enum, default_value = "linux")]
    pub sandbox: crate::sandbox::Mode,
    /// A remote build cache shared by CI workers (overrides [cache] url).
    #[arg(long, global = true, env = "KILN_REMOTE_CACHE", value_name = "URL")]
    pub remote_cache: Option<String>,
    /// `read` never writes the remote cache (pull-request builds); overrides [cache] mode.
    #[arg(
        long,
        global = true,
        env = "KILN_REMOTE_CACHE_MODE",
        value_name = "MODE"
    )]
    pub remote_cache_mode: Option<CacheModeArg>,
    /// The REAPI instance name of a grpc:// remote cache or executor (overrides [cache] instance).
    #[arg(long, global = true, env = "KILN_REMOTE_INSTANCE", value_name = "NAME")]
    pub remote_instance: Option<String>,
    /// A REAPI server that runs the actions the cache misses (overrides [remote] executor);
    /// it is the build's remote cache too.
    #[arg(long, global = true, env = "KILN_REMOTE_EXECUTOR", value_name = "URL")]
    pub remote_executor: Option<String>,
    /// When the remote executor cannot be reached, run actions here (one warning)
    /// instead of failing the build.
    #[arg(long, global = true)]
    pub remote_fallback: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CacheModeArg {
    Read,
    ReadWrite,
}

/// What every command may need: where it runs, the global flags, the build flags.
pub struct Context {
    pub dir: Option<PathBuf>,
    pub flags: GlobalFlags,
    pub build: BuildFlags,
}

impl Context {
    pub fn ui(&self) -> Ui {
        Ui::new(&self.flags)
    }

    /// The workspace around `-C DIR` (default the current directory).
    pub fn workspace(&self) -> Result<Workspace> {
        // A --distdir that is not there would be passed over without a word.
        if let Some(d) = self.build.distdir.iter().find(|d| !d.is_dir()) {
            return Err(bad_input(format!(
                "--distdir {}: no such directory (it is relative to the current directory)",
                d.display()
            )));
        }
        Workspace::find(&self.start()?, Some((&self.fetch_options(), self.ui())))
    }

    /// The workspace's settings only (store, cache, keys): for the commands that build
    /// nothing, which then need no Python even when the workspace locks some.
    pub fn settings(&self) -> Result<Workspace> {
        Workspace::find(&self.start()?, None)
    }

    /// Where the workspace is looked for: `-C DIR`, else the current directory.
    fn start(&self) -> Result<PathBuf> {
        Ok(match &self.dir {
            Some(d) => d.clone(),
            None => std::env::current_dir()?,
        })
    }

    /// `--offline` and `--distdir`: where archives (and locked wheels) may come from.
    pub fn fetch_options(&self) -> FetchOptions {
        FetchOptions {
            offline: self.build.offline,
            distdirs: self.build.distdir.clone(),
        }
    }

    /// The store a `--store` flag names, else the workspace's.
    pub fn store(&self, ws: &Workspace, flag: Option<&str>) -> Result<Box<dyn store::Store>> {
        store::open(flag.unwrap_or(&ws.store_url), &ws.root).map_err(|e| bad_input(e.to_string()))
    }

    /// A build session: the loaded graph, the caches, the build flags.
    pub fn session(&self, ws: Workspace) -> Result<Session> {
        let jobs = match self.build.jobs {
            Some(0) => return Err(bad_input("-j takes a number of at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        Ok(Session {
            remote: self.remote(&ws)?,
            graph: Graph::load(ws)?,
            cache: Cache::open()?,
            ui: self.ui(),
            fetch: self.fetch_options(),
            jobs,
            sandbox: self.build.sandbox,
        })
    }

    /// The remote cache of `--remote-cache` or `[cache]`, with its mode and keys.
    fn remote(&self, ws: &Workspace) -> Result<Option<crate::remote::Remote>> {
        let spec = ws.cache.as_ref();
        let cache_url = self
            .build
            .remote_cache
            .as_deref()
            .or(spec.map(|c| c.url.as_str()));
        let executor = self
            .build
            .remote_executor
            .as_deref()
            .or(ws.remote.as_ref().map(|r| r.executor.as_str()));
        // An executor's server is the build's cache: results it computes are in its
        // action cache, and a cache elsewhere would need every output moved twice.
        if let (Some(exec), Some(cache)) = (executor, cache_url)
            && exec != cache
        {
            return Err(bad_input(format!(
                "the remote executor {exec} is not the remote cache {cache}: an executor's server is the build's cache"
            )));
        }
        if let Some(exec) = executor
            && !crate::reapi::is_reapi_url(exec)
        {
            return Err(bad_input(format!(
                "remote executor {exec}: not a grpc:// or grpcs:// URL (a REAPI server)"
            )));
        }
        // Workers run kiln's Linux sandbox only: an action asking for none would wait
        // for a worker that never comes.
        if executor.is_some() && self.build.sandbox == crate::sandbox::Mode::None {
            return Err(bad_input(
                "--sandbox=none cannot run on a remote executor: its workers run every action in kiln's Linux sandbox (drop one of the two)",
            ));
        }
        let Some(url) = executor.or(cache_url) else {
            return Ok(None);
        };
        let fallback =
            if self.build.remote_fallback || ws.remote.as_ref().is_some_and(|r| r.fallback) {
                crate::remote::Fallback::RunHere
            } else {
                crate::remote::Fallback::Fail
            };
        let mode = match self.build.remote_cache_mode {
            Some(CacheModeArg::Read) => rules::CacheMode::Read,
            Some(CacheModeArg::ReadWrite) => rules::CacheMode::ReadWrite,
            None => spec
                .and_then(|c| c.mode)
                .unwrap_or(rules::CacheMode::ReadWrite),
        };
        // A REAPI server is the authority for its cache: nothing is signed.
        if crate::reapi::is_reapi_url(url) {
            let instance = self
                .build
                .remote_instance
                .as_deref()
                .or(spec.map(|c| c.instance.as_str()))
                .unwrap_or("");
            let client = crate::reapi::Client::new(url, instance)
                .map_err(|e| bad_input(format!("remote cache: {e}")))?;
            self.ui()
                .detail(format!("kiln: remote cache {} ({mode:?})", client.name()));
            if executor.is_some() {
                self.ui()
                    .detail(format!("kiln: remote executor {}", client.name()));
            }
            return Ok(Some(crate::remote::Remote::Reapi(
                crate::remote::ReapiCache::new(client, mode, executor.map(|_| fallback)),
            )));
        }
        // A read-only build never needs the writers' key: do not even load it.
        let signer = match mode {
            rules::CacheMode::Read => None,
            rules::CacheMode::ReadWrite => crate::publish::secret_key(
                None,
                "KILN_CACHE_SIGNING_KEY",
                spec.and_then(|c| c.signing_key.as_deref())
                    .map(|p| crate::workspace::key_file(&ws.root, p))
                    .transpose()?
                    .as_deref(),
                "cache signing key",
            )?,
        };
        self.ui()
            .detail(format!("kiln: remote cache {url} ({mode:?})"));
        Ok(Some(crate::remote::Remote::Store(
            crate::remote::StoreCache::new(
                store::open(url, &ws.root).map_err(|e| bad_input(format!("remote cache: {e}")))?,
                mode,
                signer,
                spec.map(|c| c.trusted_keys.clone()).unwrap_or_default(),
            ),
        )))
    }
}

/// Patterns as given, default `//...`.
pub fn patterns(p: &[String]) -> Vec<String> {
    if p.is_empty() {
        vec!["//...".into()]
    } else {
        p.to_vec()
    }
}

/// A build number: a positive whole number without leading zeros.
pub fn build_number(raw: Option<&str>) -> Result<u64> {
    use crate::error::{Code, hinted};
    let raw = raw.ok_or_else(|| {
        hinted(
            Code::BadInput,
            "no build number",
            "pass --build-number N or set BUILD_NUMBER (CI systems set it for you)",
        )
    })?;
    match raw.parse::<u64>() {
        Ok(n) if n > 0 && !raw.starts_with('0') => Ok(n),
        _ => Err(bad_input(format!(
            "build number {raw:?} is not a positive whole number"
        ))),
    }
}

/// `s` when `n` is not one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
