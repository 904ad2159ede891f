//! One module per command. Each takes its parsed arguments and the [`Context`] and
//! returns one output value (`plumbing::output::Output`) that renders both the human
//! text and the JSON object; `main.rs` parses and dispatches, nothing more.

pub mod follow;
pub mod gc;
pub mod install;
pub mod list;
pub mod remove;
pub mod rollback;
pub mod verify;

use std::path::{Path, PathBuf};

use plumbing::flags::GlobalFlags;

use crate::config::{self, Config};
use crate::error::{Code, Result, hinted};
use crate::install::Host;
use crate::layout::Layout;

/// The exit codes of the commands that change a host (concat! needs a literal).
#[macro_export]
macro_rules! exit_codes {
    () => {
        "Exit codes: 0 done (changed or not), 1 the work failed (signature, checksum, restart, health check), 2 bad input, 3 the environment (store unreachable, disk full), 4 rolled back to a build whose health check fails too. With --json, one object on stdout either way (docs/json.md)."
    };
}

/// What every command may need: the global flags and where the host and store are.
pub struct Context {
    pub flags: GlobalFlags,
    pub config: Option<PathBuf>,
    pub root: Option<PathBuf>,
    pub store: Option<String>,
}

/// The config as this run applies it, the host layout, the store.
pub struct Env {
    pub config: Config,
    pub layout: Layout,
    pub store: Option<Box<dyn store::Store>>,
    pub bar: plumbing::progress::Bar,
    /// When this run (or follow poll) began, RFC 3339: what its history entries are
    /// newer than or equal to.
    pub started: String,
}

/// How a command changes the host.
#[derive(Default)]
pub struct Opts {
    pub no_restart: bool,
    pub reinstall: bool,
    pub dry_run: bool,
    pub restart: Vec<String>,
}

impl Context {
    /// Read the config and open the store; `restart` names the services a command
    /// would restart besides the package's own (it needs a service manager).
    pub fn env(&self, restart: &[String]) -> Result<Env> {
        let mut config = Config::load(self.config.as_deref())?;
        if !restart.is_empty() && matches!(config.manager, config::Manager::None) {
            return Err(hinted(
                Code::BadInput,
                format!(
                    "--restart {} needs a service manager, and the config names none",
                    restart.join(", ")
                ),
                "set [services] manager in fetch.toml (runit, systemd or command), or drop --restart",
            ));
        }
        let root = self.root.clone().unwrap_or_else(|| config.root.clone());
        // The config's service manager acts on the machine the config's root is; a
        // --root elsewhere is a scratch host, whose installs never restart the
        // machine's services.
        if !matches!(config.manager, config::Manager::None) && !same_dir(&root, &config.root) {
            if !self.flags.quiet {
                eprintln!(
                    "note: --root {} is not the config's root ({}): its service manager acts on this machine, so no service is restarted or health-checked; name this root in the config (root = ...) to restart its services",
                    root.display(),
                    config.root.display()
                );
            }
            config.manager = config::Manager::None;
            config.check_health = false;
        }
        // --store is relative to where kiln-fetch runs, the config's store to the config.
        let store = match (&self.store, &config.store) {
            (Some(u), _) => Some(
                store::open(u, &std::env::current_dir()?).map_err(store::StoreError::classify)?,
            ),
            (None, Some(u)) => {
                Some(store::open(u, &config.store_base).map_err(store::StoreError::classify)?)
            }
            (None, None) => None,
        };
        if let Some(s) = &store
            && self.flags.verbose > 0
        {
            eprintln!("kiln-fetch: store {}", s.url());
        }
        Ok(Env {
            config,
            layout: Layout::new(root),
            store,
            bar: plumbing::progress::Bar::new(self.flags.progress()),
            started: plumbing::fs::now_rfc3339(),
        })
    }
}

impl Env {
    /// The host to act on, with `opts`.
    pub fn host(&self, opts: Opts) -> Host<'_> {
        Host {
            layout: self.layout.clone(),
            config: &self.config,
            store: self.store.as_deref(),
            no_restart: opts.no_restart,
            reinstall: opts.reinstall,
            dry_run: opts.dry_run,
            restart: opts.restart,
            progress: &self.bar,
            keys: Default::default(),
            warned: Default::default(),
        }
    }
}

/// Whether two paths name the same directory: resolved where they exist, else made
/// absolute (against the current directory) and compared.
fn same_dir(a: &Path, b: &Path) -> bool {
    let full = |p: &Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    full(a).components().eq(full(b).components())
}

/// `build N`, or `nothing`.
pub fn build_or_nothing(b: Option<u64>) -> String {
    b.map_or("nothing".to_string(), |b| format!("build {b}"))
}
