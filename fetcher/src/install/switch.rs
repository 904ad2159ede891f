//! Steps 5 to 9: put the build in place (reused, or downloaded and unpacked), link its
//! entry points, record the pending switch, switch `current`, restart and health-check,
//! then record the history.

use release::{Digest, Release};

use super::*;
use crate::error::Result;
use crate::layout::TMP_PREFIX;
use crate::state::{self, Event, Pending, State};
use crate::unpack::{self, installed_manifest};
use crate::{download, services};

impl Host<'_> {
    /// Make `rel` current: everything that can fail first, then the switch.
    pub(super) fn switch_to(
        &self,
        pkg: &str,
        rel: &Release,
        bytes: &[u8],
        action: &str,
        channel: Option<(String, u64, Digest)>,
    ) -> Result<Report> {
        // A configured manager that cannot run fails the install before anything is
        // downloaded: we do not know yet whether the bundle is a service.
        if !self.no_restart {
            services::preflight(&self.config.manager)?;
        }
        let n = rel.build;
        let dir = self.layout.build_dir(pkg, n);
        let current = self.layout.current(pkg);
        // The entry points are checked before the build directory is touched: from
        // the copy on the host, or from the downloaded bundle's manifest (a refusal
        // then removes only that download).
        // A fresh copy swapped in under the current build changed the host, whatever
        // happens next.
        let reuse = self.reusable(pkg, n, bytes)?;
        let replaced_current = !reuse && current == Some(n);
        if reuse {
            let m = installed_manifest(&dir)?;
            self.check_links(pkg, &m)?;
            self.check_python(pkg, n, &m)?;
        } else {
            let _cache = download::cache_lock(&self.layout, false)?;
            let blob = download::bundle(&self.layout, self.store()?, rel, self.progress)?;
            let (bundled, _) = unpack::read_manifest(&blob, rel)?;
            let checked = self
                .check_links(pkg, &bundled)
                .and_then(|()| self.check_python(pkg, n, &bundled));
            if let Err(e) = checked {
                let _ = fs_err::remove_file(&blob);
                return Err(e);
            }
            unpack::install_tree(&self.layout, rel, bytes, &blob)?;
        }
        let manifest = installed_manifest(&dir)?;
        let restart = if self.no_restart {
            vec![]
        } else {
            self.restarts_for(Some(&manifest))
        };
        self.link(pkg, &manifest)?;
        let pending = Pending {
            from: current,
            to: n,
            action: action.to_string(),
            restart,
            channel: channel.as_ref().map(|c| c.0.clone()),
            sequence: channel.as_ref().map(|c| c.1),
            pointer_sha256: channel.as_ref().map(|c| c.2),
        };
        if let Some((c, seq, sha)) = &channel {
            // Seen before acted on: a kill and a damaged journal cannot lose it.
            let mut st = State::load(&self.layout, pkg)?;
            st.saw(c, *seq, Some(*sha));
            st.save(&self.layout, pkg)?;
        }
        state::save_pending(&self.layout, pkg, &pending)?;
        plumbing::fault::pause("before-switch");
        self.switch(pkg, n)?;
        plumbing::fault::pause("after-switch");
        self.finish(pkg, &pending).map_err(|e| {
            if replaced_current {
                crate::error::mark_changed(e)
            } else {
                e
            }
        })
    }

    /// After the switch: restart, health check (rolling back on failure), history.
    /// Any failure here comes after `current` switched: it says the host changed
    /// unless `current` is back where it was.
    pub(super) fn finish(&self, pkg: &str, p: &Pending) -> Result<Report> {
        self.finish_switched(pkg, p).map_err(|e| {
            if self.layout.current(pkg) != p.from {
                crate::error::mark_changed(e)
            } else {
                e
            }
        })
    }

    pub(super) fn finish_switched(&self, pkg: &str, p: &Pending) -> Result<Report> {
        let dir = self.layout.build_dir(pkg, p.to);
        let manifest = installed_manifest(&dir)?;
        let mut st = State::load(&self.layout, pkg)?;
        // The process each service ran before: the start stage waits for another.
        let mut before = Vec::new();
        for (i, name) in p.restart.iter().enumerate() {
            before.push(services::status(&self.config.manager, name).and_then(|s| s.pid));
            if let Err(e) =
                services::restart(&self.config.manager, name, self.config.service_timeout)
            {
                let failure = Failure::Restart(e, i);
                return Err(self.roll_back(pkg, p, failure, &mut st));
            }
        }
        // Started: each service restarted runs a new process, and keeps running it.
        for (name, before) in p.restart.iter().zip(before) {
            if let Err(why) =
                services::started(&self.config.manager, name, self.config.health.start, before)
            {
                let failed = format!("{pkg} build {} failed to start: {why}", p.to);
                return Err(self.roll_back(pkg, p, Failure::Health(failed), &mut st));
            }
        }
        let health = manifest.service.as_ref().and_then(|s| s.health.as_ref());
        if let Some(health) = health.filter(|_| self.config.check_health) {
            let exe = self.layout.current_link(pkg).join(health);
            // Ready (the check passes, with retries), then the soak (it keeps passing).
            let staged = services::check(&exe, &self.config.health)
                .and_then(|()| services::soak(&exe, &self.config.health));
            if let Err(why) = staged {
                let failed = format!(
                    "health check {health} of {pkg} build {} failed: {why}",
                    p.to
                );
                return Err(self.roll_back(pkg, p, Failure::Health(failed), &mut st));
            }
        }
        st.history.push(Event {
            build: p.to,
            sha256: release_sha(&dir)?,
            at: state::now(),
            action: p.action.clone(),
            previous: p.from,
            channel: p.channel.clone(),
        });
        if let (Some(c), Some(seq)) = (&p.channel, p.sequence) {
            st.accept(c, seq, p.pointer_sha256);
        }
        st.unfinished = None;
        st.removed = None;
        st.save(&self.layout, pkg)?;
        state::clear_pending(&self.layout, pkg)?;
        // The install happened; tidying up after it never fails it.
        if let Err(e) = self.unlink_stale(pkg, Some(&manifest)) {
            plumbing::style::warning(&format!(
                "removing entry points build {} no longer has: {e:#}",
                p.to
            ));
        }
        if let Err(e) = self.gc(pkg, self.config.keep) {
            plumbing::style::warning(&format!(
                "removing old builds of {pkg}: {e:#}; kiln-fetch gc tries again"
            ));
        }
        let _ = fs_err::remove_file(
            self.layout
                .cache_dir()
                .join(format!("{}.tar.gz", release_sha(&dir)?)),
        );
        Ok(Report {
            changed: true,
            package: pkg.into(),
            build: p.to,
            previous: p.from,
            restarted: p.restart.clone(),
            dry_run: None,
            recovered: None,
            relinked: vec![],
        })
    }

    /// A bundle of Python tools runs on the host's python3: one of another version
    /// than it was built for is a warning, or refused before anything switches with
    /// `require_python = true`.
    fn check_python(&self, pkg: &str, n: u64, m: &release::Manifest) -> Result<()> {
        let Some(want) = &m.python else {
            return Ok(());
        };
        // Bounded (a python3 that hangs or floods cannot stop an install), and only a
        // version is believed (nothing else it prints reaches a message).
        let have = plumbing::process::query(
            std::process::Command::new("python3")
                .args([
                    "-I",
                    "-S",
                    "-c",
                    "import sys; print('%d.%d' % sys.version_info[:2])",
                ])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null()),
            64,
            std::time::Duration::from_secs(10),
        )
        .ok()
        .flatten()
        .map(|o| String::from_utf8_lossy(&o).trim().to_string())
        .filter(|v| {
            v.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit())
            })
        });
        if have.as_deref() == Some(want.as_str()) {
            return Ok(());
        }
        let have = have.map_or(
            "no python3 in PATH that reports its version".to_string(),
            |v| format!("Python {v}"),
        );
        let msg = format!("{pkg} build {n} was built for Python {want}; this host has {have}");
        if self.config.require_python {
            return Err(crate::error::hinted(
                crate::error::Code::Env,
                msg,
                format!(
                    "install Python {want} as python3, or build {pkg} on a machine like this host; nothing was switched"
                ),
            ));
        }
        plumbing::style::warning(&format!(
            "{msg}; its tools may not run (require_python = true in fetch.toml refuses)"
        ));
        Ok(())
    }

    /// Point `current` at `build` by renaming a new symlink over it.
    pub(super) fn switch(&self, pkg: &str, build: u64) -> Result<()> {
        let dir = self.layout.package_dir(pkg);
        let tmp = dir.join(format!("{TMP_PREFIX}current-{}", std::process::id()));
        let _ = fs_err::remove_file(&tmp);
        fs_err::os::unix::fs::symlink(build.to_string(), &tmp)?;
        fs_err::rename(&tmp, self.layout.current_link(pkg))?;
        fs_err::File::open(&dir)?.sync_all()?;
        Ok(())
    }
}
