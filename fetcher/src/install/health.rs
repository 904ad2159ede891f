//! Step 8's failure path: the services a build restarts, and the rollback after a failed
//! restart or health check (switch back and restart again, or record the build unfinished).

use release::{Kind, Manifest};

use super::*;
use crate::config::Manager;
use crate::error::{Code, Result, hinted};
use crate::services;
use crate::state::{self, Event, Pending, State};
use crate::unpack::installed_manifest;

impl Host<'_> {
    /// The services to restart for a bundle: its own, plus --restart ones.
    pub(super) fn restarts_for(&self, manifest: Option<&Manifest>) -> Vec<String> {
        let mut out: Vec<String> = manifest
            .and_then(|m| {
                (m.kind == Kind::Service).then(|| m.service.as_ref().map(|s| s.name.clone()))
            })
            .flatten()
            .into_iter()
            .collect();
        out.extend(self.restart.iter().cloned());
        if matches!(self.config.manager, Manager::None) {
            out.clear();
        }
        out
    }

    /// After a failed restart or health check: back to the build that was current
    /// before, restarted. A first install whose restart failed leaves no `current`
    /// (the host as it was); one whose health check failed keeps the new build current,
    /// since its service already runs it.
    // Long: one journalled sequence (switch back, restart, check, record) whose order
    // is what makes a kill -9 at any line recoverable; split up, that order is hidden.
    pub(super) fn roll_back(
        &self,
        pkg: &str,
        p: &Pending,
        failure: Failure,
        st: &mut State,
    ) -> anyhow::Error {
        // The services restarted onto the new build: all of them before a health
        // check, those before the one that failed otherwise. They are restarted again
        // onto the build switched back to.
        let done = match &failure {
            Failure::Health(_) => &p.restart[..],
            Failure::Restart(_, i) => &p.restart[..*i],
        };
        let restarted = !done.is_empty();
        let hinted = |code: Code, message: String, hint: &str| {
            if restarted {
                crate::error::changed(code, message, hint)
            } else {
                hinted(code, message, hint)
            }
        };
        let (failed, code, cause_hint) = match &failure {
            Failure::Health(f) => (f.clone(), Code::Failed, None),
            Failure::Restart(e, _) => {
                let d = plumbing::error::describe(e);
                let code = if d.code == Code::Env as i32 {
                    Code::Env
                } else {
                    Code::Failed
                };
                (d.lines.join(": "), code, d.hint)
            }
        };
        let hint_or = |h: &str| cause_hint.clone().unwrap_or_else(|| h.to_string());
        // Back means to the build that was current before. Re-running the current one
        // (--reinstall, or one that never passed its check) keeps it current, and so
        // does a failed automatic rollback being finished (no ping-pong between runs).
        let back_to = p.from.filter(|b| *b != p.to && p.action != "auto-rollback");
        let Some(prev) = back_to.filter(|b| self.on_host(pkg, *b)) else {
            // Only a first install (nothing was current) can be undone to nothing.
            if let (Failure::Restart(..), None) = (&failure, p.from) {
                let undo = (|| -> Result<()> {
                    self.unlink_stale(pkg, None)?;
                    fs_err::remove_file(self.layout.current_link(pkg))?;
                    state::clear_pending(&self.layout, pkg)
                })();
                let still = if done.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} had been restarted onto build {} and still run it",
                        done.join(", "),
                        p.to
                    )
                };
                return match undo {
                    Ok(()) => hinted(
                        code,
                        format!(
                            "{failed}; {pkg} was not installed before, so nothing is current now (build {} stays unpacked under {}){still}",
                            p.to,
                            self.layout.build_dir(pkg, p.to).display()
                        ),
                        &hint_or("fix the service and run the same install again"),
                    ),
                    Err(e) => hinted(
                        code,
                        format!("{failed}; removing the new `current` failed too: {e:#}"),
                        "kiln-fetch list shows what is current; run the install again",
                    ),
                };
            }
            // The build stays current but is not installed: the next run checks it
            // again, so config management keeps seeing the failure.
            st.unfinished = Some(p.to);
            let _ = st.save(&self.layout, pkg);
            let _ = state::clear_pending(&self.layout, pkg);
            let why = if p.from == Some(p.to) {
                "it was current before this run, and a reinstall (or a re-check) never switches to another build"
            } else {
                "there is no earlier build to roll back to"
            };
            return hinted(
                code,
                format!("{failed}; build {} stays current: {why}", p.to),
                &hint_or("fix the release and install another build"),
            );
        };
        let back = (|| -> Result<std::result::Result<bool, String>> {
            let prev_manifest = installed_manifest(&self.layout.build_dir(pkg, prev))?;
            self.link(pkg, &prev_manifest)?;
            // Journalled like any switch: a kill after it is finished by the next run
            // (the restarts onto `prev` and its health check).
            let back = Pending {
                from: Some(p.to),
                to: prev,
                action: "auto-rollback".into(),
                restart: done.to_vec(),
                channel: None,
                sequence: None,
                pointer_sha256: None,
            };
            state::save_pending(&self.layout, pkg, &back)?;
            // Whether `prev` was installed (its check passed) before this run.
            let was_settled = st.settled(prev);
            // Until its check passes the build gone back to is not installed, so a
            // damaged journal cannot turn a kill here into "unchanged".
            st.unfinished = Some(prev);
            st.save(&self.layout, pkg)?;
            self.switch(pkg, prev)?;
            let mut before = Vec::new();
            for name in done {
                before.push(services::status(&self.config.manager, name).and_then(|s| s.pid));
                services::restart(&self.config.manager, name, self.config.service_timeout)?;
            }
            // The build gone back to counts as installed only if it is healthy: checked
            // again (started, then its check) when its services were restarted onto
            // it, else as it was before.
            let started = done.iter().zip(before).try_for_each(|(name, before)| {
                services::started(&self.config.manager, name, self.config.health.start, before)
            });
            let healthy = if done.is_empty() {
                Ok(was_settled)
            } else if let Err(why) = started {
                Err(why)
            } else {
                match prev_manifest
                    .service
                    .as_ref()
                    .and_then(|s| s.health.as_ref())
                {
                    Some(h) if self.config.check_health => {
                        let exe = self.layout.current_link(pkg).join(h);
                        services::check(&exe, &self.config.health).map(|()| true)
                    }
                    _ => Ok(true),
                }
            };
            match &healthy {
                Ok(true) => {
                    st.history.push(Event {
                        build: prev,
                        sha256: release_sha(&self.layout.build_dir(pkg, prev))?,
                        at: state::now(),
                        action: "auto-rollback".into(),
                        previous: Some(p.to),
                        channel: None,
                    });
                    st.unfinished = None;
                }
                _ => st.unfinished = Some(prev),
            }
            st.save(&self.layout, pkg)?;
            state::clear_pending(&self.layout, pkg)?;
            self.unlink_stale(pkg, Some(&prev_manifest))?;
            Ok(healthy)
        })();
        let running = match failure {
            Failure::Health(_) => "which is running now".to_string(),
            Failure::Restart(..) if done.is_empty() => {
                "current again (no service was restarted)".to_string()
            }
            Failure::Restart(..) => format!(
                "current again, and {} restarted onto it again",
                done.join(", ")
            ),
        };
        match back {
            Ok(Err(why)) => hinted(
                Code::Unhealthy,
                format!(
                    "{failed}; rolled back to build {prev}, but its health check fails too: {why}"
                ),
                "both builds are unhealthy; fix the service or install a build that passes",
            ),
            Ok(Ok(false)) => hinted(
                code,
                format!(
                    "{failed}; rolled back to build {prev}, which never passed its own check either"
                ),
                "fix the service or install a build that passes",
            ),
            Ok(Ok(true)) => hinted(
                code,
                format!("{failed}; rolled back to build {prev}, {running}"),
                &hint_or(&format!(
                    "build {} stays installed for inspection under {}",
                    p.to,
                    self.layout.build_dir(pkg, p.to).display()
                )),
            ),
            Err(e) => hinted(
                code,
                format!("{failed}; rolling back to build {prev} failed too: {e:#}"),
                "check the service by hand; kiln-fetch list shows what is current",
            ),
        }
    }
}
