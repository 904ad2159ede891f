//! Installing a build, in the order the code runs it (each step that can fail comes
//! before the switch), and the module that holds each step:
//!
//! 1. a package new to the host is resolved first, so bad input creates nothing
//!    ([`resolve`]);
//! 2. take the package's lock; check its directory is kiln-fetch's own; remove the
//!    crash temps kiln-fetch names; read and check the state; finish an install a crash
//!    interrupted after its switch, or undo one interrupted before it (its links)
//!    ([`recover`]);
//! 3. resolve the build (a pinned version, or a channel's pointer) and its signed
//!    release record, the signature checked against the keys the host trusts; a
//!    settled current build is "unchanged" here ([`resolve`], [`trust`]);
//! 4. check that the service manager can run (`crate::services`);
//! 5. reuse a copy on the host only if it re-hashes clean against its manifest and
//!    holds the store's record ([`resolve`]); else download to
//!    `var/cache/kiln/<sha256>.partial` (size and sha256 checked while streaming:
//!    `crate::download`) and unpack beside the final directory, checking every file,
//!    then rename (or exchange) it into `opt/kiln/<package>/<build>` (`crate::unpack`,
//!    driven by [`switch`]);
//! 6. check the entry points (a refusal removes what step 5 made), link a tool's
//!    binaries into `usr/local/bin` (through `current`) ([`links`]);
//! 7. record the channel sequence seen and the pending switch, then switch `current` by
//!    renaming a new symlink over it ([`switch`]);
//! 8. restart services (runit: once supervised), run the health check; on failure
//!    switch back and restart again (or, with nothing to go back to, record the build
//!    unfinished) ([`switch`], its failure path [`health`]);
//! 9. record the history, clear the pending switch; then, only warning on failure,
//!    remove stale entry points ([`links`]) and keep N builds ([`gc`]).
//!
//! [`rollback`] is the same path from step 2 on, to a build already chosen; [`remove`]
//! takes the package off the host under the same lock.

mod gc;
mod remove;

pub use remove::Removed;
mod health;
mod links;
mod recover;
mod resolve;
mod rollback;
mod switch;
mod trust;

use std::path::Path;

use release::{Digest, Release};
use serde::Serialize;
use store::Store;

use crate::config::Config;
use crate::error::{Code, Result, err};
use crate::layout::Layout;
use crate::state::{self, State};
use crate::unpack::installed_manifest;

pub enum Target {
    Version(u64),
    Channel(String),
}

pub struct Host<'a> {
    pub layout: Layout,
    pub config: &'a Config,
    pub store: Option<&'a dyn Store>,
    pub no_restart: bool,
    /// Fetch and unpack a fresh copy even of a build already on the host.
    pub reinstall: bool,
    /// Say what would happen; write nothing at all.
    pub dry_run: bool,
    /// More services to restart when the package changes.
    pub restart: Vec<String>,
    pub progress: &'a dyn plumbing::progress::Reporter,
    /// The store's keys record, once read and checked (hosts with `trusted_root`).
    pub keys: std::sync::OnceLock<release::KeysRecord>,
    /// The warnings already given (each once a run).
    pub warned: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub changed: bool,
    pub package: String,
    pub build: u64,
    pub previous: Option<u64>,
    pub restarted: Vec<String>,
    /// With --dry-run: what would happen, nothing done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<Plan>,
    /// Set when this run finished an install a crash had interrupted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<u64>,
    /// Entry points of the current build that had been removed, linked again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relinked: Vec<String>,
}

#[derive(Serialize, Debug)]
pub struct Plan {
    pub download_bytes: u64,
    pub switch_from: Option<u64>,
    pub switch_to: u64,
    pub restart: Vec<String>,
}

/// A record the store was asked for.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    Build(u64),
    Channel(&'a str),
}

/// Why an install is being rolled back.
enum Failure {
    /// The restart of `p.restart[i]` failed (those before it were restarted).
    Restart(anyhow::Error, usize),
    Health(String),
}

/// A resolved release: the record, its exact bytes, and the channel it came by.
struct Resolved {
    rel: Release,
    bytes: Vec<u8>,
    /// The channel followed: its name, the pointer's sequence and sha256.
    channel: Option<(String, u64, Digest)>,
}

impl Host<'_> {
    /// Run `work` under the package's lock, after removing what a crash left and
    /// finishing an install it interrupted. A run that finished an interrupted install
    /// and then fails says so, and that it changed the host.
    pub(super) fn locked<T>(
        &self,
        pkg: &str,
        work: impl FnOnce(Option<Report>) -> Result<T>,
    ) -> Result<T> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        let lock = state::lock(&self.layout, pkg)?;
        let result = (|| {
            // Never written (nor removed) through a link in place of the package's
            // directory, on any path.
            crate::layout::own_dir(&self.layout, &self.layout.package_dir(pkg))?;
            self.clean_temps(pkg);
            // A state file that cannot be read stops the run before anything changes.
            State::load(&self.layout, pkg)?;
            let recovered = self.recover(pkg)?;
            let finished = recovered.as_ref().map(|r| r.build);
            work(recovered).map_err(|e| match finished {
                Some(b) => {
                    eprintln!(
                        "note: finished the interrupted install of {pkg} build {b} before this failed"
                    );
                    crate::error::mark_changed(e)
                }
                None => e,
            })
        })();
        drop(lock);
        result
    }

    /// Build `n` of `pkg` is on the host as kiln-fetch left it: a real directory with
    /// its release record (what `current` may keep pointing at without a download).
    pub(super) fn on_host(&self, pkg: &str, n: u64) -> bool {
        let dir = self.layout.build_dir(pkg, n);
        fs_err::symlink_metadata(&dir).is_ok_and(|m| m.is_dir())
            && Layout::release_file(&dir).is_file()
    }

    pub fn install(&self, pkg: &str, target: &Target, dry_run: bool) -> Result<Report> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        if self.config.allow_unsigned {
            plumbing::style::warning(
                "allow_unsigned = true: records no trusted key signed are installed (for demos only)",
            );
        }
        if dry_run {
            return self.plan(pkg, target);
        }
        // A package new to this host is looked up before anything is created for it,
        // so bad input (an unknown package, build or channel) leaves nothing behind.
        // (The lock is never removed once made: another run may be waiting on it.)
        if fs_err::symlink_metadata(self.layout.state_dir(pkg)).is_err() {
            self.resolve(pkg, target)?;
        }
        self.locked(pkg, |recovered| {
            let current = self.layout.current(pkg);
            // The current build counts as installed only once an install of it
            // finished and it has not failed since: one whose restart or health check
            // failed with nothing to go back to is checked again.
            let settled = |n: u64| {
                current == Some(n)
                    && self.on_host(pkg, n)
                    && State::load(&self.layout, pkg).is_ok_and(|st| st.settled(n))
            };
            // A pinned build that is already current needs no store at all.
            if let Target::Version(n) = target
                && !self.reinstall
                && settled(*n)
            {
                return self.settled(pkg, *n, recovered);
            }
            let r = self.resolve(pkg, target)?;
            if !self.reinstall && settled(r.rel.build) {
                if let Some((c, seq, sha)) = &r.channel {
                    let mut st = State::load(&self.layout, pkg)?;
                    st.accept(c, *seq, Some(*sha));
                    st.save(&self.layout, pkg)?;
                }
                return self.settled(pkg, r.rel.build, recovered);
            }
            let mut report = self.switch_to(pkg, &r.rel, &r.bytes, "install", r.channel.clone())?;
            report.recovered = recovered.map(|r| r.build);
            Ok(report)
        })
    }

    /// The settled current build asked for again: unchanged, unless an entry point
    /// of it had been removed by hand (linked again, and said).
    fn settled(&self, pkg: &str, build: u64, recovered: Option<Report>) -> Result<Report> {
        let relinked = self.repair_links(pkg, build)?;
        let mut report = self.unchanged(pkg, build, recovered);
        if !relinked.is_empty() {
            report.changed = true;
            report.relinked = relinked;
        }
        Ok(report)
    }

    pub(super) fn unchanged(&self, pkg: &str, build: u64, recovered: Option<Report>) -> Report {
        match recovered {
            Some(mut r) => {
                r.recovered = Some(r.build);
                r
            }
            None => Report {
                changed: false,
                package: pkg.into(),
                build,
                previous: Some(build),
                restarted: vec![],
                dry_run: None,
                recovered: None,
                relinked: vec![],
            },
        }
    }

    pub(super) fn plan(&self, pkg: &str, target: &Target) -> Result<Report> {
        let dir = self.layout.package_dir(pkg);
        if fs_err::symlink_metadata(&dir).is_ok() && !crate::layout::is_own_dir(&self.layout, &dir)
        {
            return Err(crate::layout::not_ours(&dir));
        }
        let current = self.layout.current(pkg);
        let r = self.resolve(pkg, target)?;
        let n = r.rel.build;
        let on_disk =
            !self.reinstall && Layout::release_file(&self.layout.build_dir(pkg, n)).is_file();
        let cache = self.layout.cache_dir();
        let sha = r.rel.bundle.sha256;
        let download_bytes = if on_disk
            || (current == Some(n) && !self.reinstall)
            || cache.join(format!("{sha}.tar.gz")).is_file()
        {
            0
        } else {
            let have =
                fs_err::metadata(cache.join(format!("{sha}.partial"))).map_or(0, |m| m.len());
            r.rel.bundle.size.saturating_sub(have)
        };
        // What the real run would finish first: an install a crash interrupted after
        // its switch (or one whose first health check failed).
        let owed = match state::load_pending(&self.layout, pkg)? {
            state::Journal::Pending(p) if current == Some(p.to) => Some(p),
            state::Journal::Unreadable(_) => self.owed(pkg)?,
            _ => None,
        };
        let settled = State::load(&self.layout, pkg)?.settled(n);
        let relinked = match (current == Some(n) && on_disk && settled, self.reinstall) {
            (true, false) => {
                self.missing_links(&installed_manifest(&self.layout.build_dir(pkg, n))?)
            }
            _ => vec![],
        };
        let changed = self.reinstall
            || current != Some(n)
            || owed.is_some()
            || !settled
            || !relinked.is_empty();
        let mut restart = owed.as_ref().map(|p| p.restart.clone()).unwrap_or_default();
        if (self.reinstall || current != Some(n) || !settled) && !self.no_restart {
            let manifest = on_disk
                .then(|| installed_manifest(&self.layout.build_dir(pkg, n)).ok())
                .flatten();
            for name in self.restarts_for(manifest.as_ref()) {
                if !restart.contains(&name) {
                    restart.push(name);
                }
            }
        }
        Ok(Report {
            changed,
            package: pkg.into(),
            build: n,
            previous: current,
            restarted: vec![],
            dry_run: Some(Plan {
                download_bytes,
                switch_from: current,
                switch_to: n,
                restart,
            }),
            recovered: owed.map(|p| p.to),
            relinked,
        })
    }
}

fn release_sha(dir: &Path) -> Result<release::Digest> {
    let bytes = fs_err::read(Layout::release_file(dir))?;
    Ok(Release::from_bytes(&bytes)
        .map_err(|e| {
            err(
                Code::Failed,
                format!("{}: {e}", Layout::release_file(dir).display()),
            )
        })?
        .bundle
        .sha256)
}
