//! `kiln-fetch rollback`: back to the previous build in the history (or `--to N`), checked
//! against the store's record when the store can say.

use release::Release;

use super::*;
use crate::error::{Code, Result, err, hinted};
use crate::state::State;

impl Host<'_> {
    pub fn rollback(&self, pkg: &str, to: Option<u64>) -> Result<Report> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        if self.layout.installed(pkg).is_empty() && self.layout.current(pkg).is_none() {
            return Err(hinted(
                Code::BadInput,
                format!(
                    "{pkg} is not installed under {}",
                    self.layout.root.display()
                ),
                "kiln-fetch list shows what is installed",
            ));
        }
        self.locked(pkg, |recovered| {
            let finished = recovered.as_ref().map(|r| r.build);
            let current = self.layout.current(pkg);
            let st = State::load(&self.layout, pkg)?;
            let target = match to {
                Some(n) => n,
                None => st.rollback_target(current).ok_or_else(|| {
                    hinted(
                        Code::BadInput,
                        format!("{pkg} has no earlier build to roll back to"),
                        "name one with --to N",
                    )
                })?,
            };
            if current == Some(target) && self.on_host(pkg, target) && st.settled(target) {
                let mut r = self.unchanged(pkg, target, recovered);
                r.recovered = finished;
                return Ok(r);
            }
            // The store's signed record decides (the copy's release.json must equal it).
            // Only when the store cannot say (down, or the build gone from it) does the
            // copy's own record stand in, so a rollback works at 3 am with the store
            // down; never when the store shows tampering.
            let dir = self.layout.build_dir(pkg, target);
            let local = self
                .on_host(pkg, target)
                .then(|| fs_err::read(Layout::release_file(&dir)).ok())
                .flatten()
                .and_then(|b| {
                    let r = Release::from_bytes(&b).ok()?;
                    (r.package == pkg && r.build == target).then_some((r, b))
                });
            let (rel, bytes) = match (self.store.is_some(), local) {
                (false, Some(x)) => x,
                (false, None) => self.fetch_release(pkg, target)?,
                (true, local) => match (self.fetch_release(pkg, target), local) {
                    (Ok(x), _) => x,
                    (Err(e), Some(x)) if plumbing::error::describe(&e).code != Code::Failed as i32 => {
                        plumbing::style::warning(&format!(
                            "the store's record of {pkg} build {target} cannot be read ({e}); rolling back to the copy on this host, checked against its own record"
                        ));
                        x
                    }
                    (Err(e), _) => return Err(e),
                },
            };
            let mut report = self.switch_to(pkg, &rel, &bytes, "rollback", None)?;
            report.recovered = finished;
            Ok(report)
        })
    }
}
