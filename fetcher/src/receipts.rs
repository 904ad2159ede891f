//! Host receipts (`[receipts] enabled = true`): after each install, rollback, follow
//! poll or remove, and after one that failed, the host writes what it runs to
//! `<prefix>/<package>/hosts/<host>.json` (signed with `[receipts] signing_key` when
//! set). A receipt that cannot be written is a warning, never a failed run.

use store::Condition;

use crate::cmd::Env;
use crate::layout::Layout;
use crate::state::State;

/// What the run came to, for the receipt.
pub enum Outcome<'a> {
    Installed { changed: bool },
    RolledBack { from: Option<u64> },
    Removed,
    Failed(&'a anyhow::Error),
}

impl<'a> Outcome<'a> {
    /// An install's (or a follow poll's) result.
    pub fn of_install(r: &'a crate::error::Result<crate::install::Report>) -> Outcome<'a> {
        match r {
            Ok(rep) => Outcome::Installed {
                changed: rep.changed,
            },
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// Write the receipt of `pkg` on this host, if receipts are on; warn if it cannot be.
pub fn record(env: &Env, pkg: &str, outcome: Outcome) {
    let (Some(r), Some(store)) = (&env.config.receipts, env.store.as_deref()) else {
        return;
    };
    let receipt = receipt(&env.layout, &r.host, pkg, &outcome, &env.started);
    let bytes = receipt.to_bytes();
    let put = |key: &str, bytes: &[u8]| {
        store
            .put(key, &mut &bytes[..], Condition::Always)
            .map(|_| ())
    };
    let written = put(&release::receipt_key(pkg, &r.host), &bytes).and_then(|()| match &r.key {
        Some(k) => put(
            &release::receipt_signature_key(pkg, &release::Digest::of_bytes(&bytes)),
            &k.sign(&bytes).to_bytes(),
        ),
        None => Ok(()),
    });
    if let Err(e) = written {
        plumbing::style::warning(&format!(
            "the receipt of {pkg} on host {} was not written to {}: {e}",
            r.host,
            store.url()
        ));
    }
}

fn receipt(
    layout: &Layout,
    host: &str,
    pkg: &str,
    outcome: &Outcome,
    started: &str,
) -> release::Receipt {
    let build = layout.current(pkg);
    let st = State::load(layout, pkg).unwrap_or_default();
    let bundle_sha256 = build.and_then(|b| {
        let bytes = fs_err::read(Layout::release_file(&layout.build_dir(pkg, b))).ok()?;
        Some(release::Release::from_bytes(&bytes).ok()?.bundle.sha256)
    });
    let since = build.and_then(|b| {
        st.history
            .iter()
            .rev()
            .find(|e| e.build == b)
            .map(|e| e.at.clone())
    });
    let (name, from, reason) = match outcome {
        Outcome::Installed { changed: true } => ("installed", None, None),
        Outcome::Installed { changed: false } => ("unchanged", None, None),
        Outcome::RolledBack { from } => ("rolled_back", *from, Some("kiln-fetch rollback".into())),
        Outcome::Removed => ("removed", None, None),
        Outcome::Failed(e) => {
            let d = plumbing::error::describe(e);
            // A failed restart or health check this run rolled back from: the build
            // it tried, as for an operator's rollback.
            let from = st
                .history
                .last()
                .filter(|e| e.action == "auto-rollback" && e.at.as_str() >= started)
                .and_then(|e| e.previous);
            ("failed", from, Some(d.lines.join(": ")))
        }
    };
    release::Receipt {
        schema: release::RECEIPT_SCHEMA,
        host: host.to_string(),
        package: pkg.to_string(),
        build,
        bundle_sha256,
        channel: st.channel.clone(),
        sequence: st.sequence,
        since,
        checked_at: plumbing::fs::now_rfc3339(),
        outcome: name.to_string(),
        rolled_back_from: from,
        reason,
    }
}
