//! `kiln-fetch follow PACKAGE --channel C [--interval 5m] [--once]`: track a channel.
//! Each poll is a conditional read of the channel pointer (If-None-Match on S3 and
//! https; a directory store is read locally): an idle poll moves no body and installs
//! nothing. When the pointer moved, it does exactly what `install --channel C` does
//! (verify, switch, restart, health, roll back) under the package's lock, and only
//! then remembers the pointer's tag (var/lib/kiln/PACKAGE/follow.json): an install that
//! failed is tried again at the next poll. A pointer that has not moved is left alone,
//! even if an engineer rolled the host back by hand. A package taken off the host with
//! `kiln-fetch remove` stays off: the poll asks the store nothing until an install puts
//! it back.

use std::time::Duration;

use plumbing::output::{Human, Output};
use serde::{Deserialize, Serialize};

use super::{Context, Opts};
use crate::error::{Code, Result, err, hinted};
use crate::install::{Report, Target};
use crate::layout::Layout;

#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  kiln-fetch follow solr --channel prod                 poll every 5m (a service: contrib/systemd)\n",
    "  kiln-fetch follow solr --channel prod --once --json   one poll (a timer, or cron)\n",
    "  kiln-fetch follow jq --channel canary --interval 30s\n\n",
    "Without --once it runs until stopped; a store that cannot be reached keeps the\n",
    "current build running and is retried with backoff (up to 4 intervals).\n\n",
    crate::exit_codes!()
))]
pub struct Args {
    /// The package to keep at the channel's build.
    pub package: String,
    /// The channel to follow.
    #[arg(long, value_name = "C")]
    pub channel: String,
    /// Time between polls (with 10% jitter), e.g. 30s, 5m.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = plumbing::duration::parse_positive)]
    pub interval: Duration,
    /// Poll once and exit (for a timer).
    #[arg(long)]
    pub once: bool,
    /// Do not restart services.
    #[arg(long)]
    pub no_restart: bool,
}

/// The tag of the channel pointer last installed from.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Memo {
    channel: String,
    etag: String,
    /// When a receipt was last written for an idle poll (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receipt_at: Option<String>,
}

fn memo_path(layout: &Layout, pkg: &str) -> std::path::PathBuf {
    layout.state_dir(pkg).join("follow.json")
}

#[derive(Serialize)]
pub struct Followed {
    pub package: String,
    pub channel: String,
    /// The pointer had not moved since the last poll: nothing was installed.
    pub pointer_unchanged: bool,
    /// When `kiln-fetch remove` took the package off this host: the store was not
    /// asked and nothing installed (an install puts it back, and following resumes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub install: Option<Report>,
}

impl Output for Followed {
    fn changed(&self) -> bool {
        self.install.as_ref().is_some_and(|r| r.changed)
    }

    fn human(&self, out: &mut Human) {
        if let Some(at) = &self.removed {
            return out.say(format!(
                "{} was removed from this host (kiln-fetch remove, {at}): not following {}; `kiln-fetch install {} --channel {}` puts it back",
                self.package, self.channel, self.package, self.channel
            ));
        }
        match &self.install {
            Some(r) => r.human(out),
            None => out.say(format!(
                "{} {}: the channel has not moved",
                self.package, self.channel
            )),
        }
    }
}

/// One poll.
fn poll(ctx: &Context, args: &Args) -> Result<Followed> {
    let env = ctx.env(&[])?;
    release::validate_package_name(&args.package).map_err(|e| err(Code::BadInput, e))?;
    release::validate_package_name(&args.channel)
        .map_err(|e| err(Code::BadInput, format!("channel: {e}")))?;
    let Some(store) = env.store.as_ref() else {
        return Err(hinted(
            Code::BadInput,
            "no store to follow",
            "set store in fetch.toml or pass --store URL",
        ));
    };
    // Taken off the host on purpose: a follower does not put it back.
    if let Some(at) = removed(&env.layout, &args.package) {
        return Ok(Followed {
            package: args.package.clone(),
            channel: args.channel.clone(),
            pointer_unchanged: true,
            removed: Some(at),
            install: None,
        });
    }
    let path = memo_path(&env.layout, &args.package);
    // Only a saving: a memo that cannot be read (garbage, a link, a huge file) is as
    // none, and the write after the install replaces it (never through a link).
    let memo = crate::state::read_state_file(&path)
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<Memo>(&b).ok())
        .filter(|m| m.channel == args.channel);
    let known = memo.as_ref().map(|m| store::ETag(m.etag.clone()));
    let key = release::channel_key(&args.package, &args.channel);
    let tag = match store
        .poll(&key, known.as_ref())
        .map_err(store::StoreError::classify)?
    {
        store::Poll::Unchanged => {
            // The last check, for `kiln status` (a host that stopped polling is stale),
            // once per heartbeat: an idle poll is one GET, not a GET and a PUT.
            if let (Some(r), Some(mut m)) = (&env.config.receipts, memo) {
                let due = m
                    .receipt_at
                    .as_deref()
                    .and_then(|t| plumbing::fs::parse_rfc3339(t).ok());
                let due = due.is_none_or(|t| t.elapsed().is_ok_and(|age| age >= r.heartbeat));
                if due {
                    crate::receipts::record(
                        &env,
                        &args.package,
                        crate::receipts::Outcome::Installed { changed: false },
                    );
                    m.receipt_at = Some(plumbing::fs::now_rfc3339());
                    if let Ok(bytes) = serde_json::to_vec(&m) {
                        let _ = crate::state::write_atomic(&env.layout, &path, &bytes);
                    }
                }
            }
            return Ok(Followed {
                package: args.package.clone(),
                channel: args.channel.clone(),
                pointer_unchanged: true,
                removed: None,
                install: None,
            });
        }
        // The install says what is missing (the package, the channel), with its hints.
        store::Poll::Missing => None,
        store::Poll::Changed(_, tag) => Some(tag),
    };
    let report = env
        .host(Opts {
            no_restart: args.no_restart,
            ..Opts::default()
        })
        .install(&args.package, &Target::Channel(args.channel.clone()), false);
    crate::receipts::record(
        &env,
        &args.package,
        crate::receipts::Outcome::of_install(&report),
    );
    let report = report?;
    if let Some(tag) = tag.filter(|t| !t.0.is_empty()) {
        let memo = Memo {
            channel: args.channel.clone(),
            etag: tag.0,
            // The install just wrote one.
            receipt_at: Some(plumbing::fs::now_rfc3339()),
        };
        // The install happened: a memo that cannot be written costs a download next
        // time, never a failed run.
        if let Err(e) = crate::state::write_atomic(&env.layout, &path, &serde_json::to_vec(&memo)?)
        {
            plumbing::style::warning(&format!(
                "{}: {e:#}; the next poll reads the pointer again",
                path.display()
            ));
        }
    }
    Ok(Followed {
        package: args.package.clone(),
        channel: args.channel.clone(),
        pointer_unchanged: false,
        removed: None,
        install: Some(report),
    })
}

/// When the package was removed with `kiln-fetch remove` and not installed since.
fn removed(layout: &Layout, pkg: &str) -> Option<String> {
    if layout.current(pkg).is_some() {
        return None;
    }
    crate::state::State::load(layout, pkg).ok()?.removed
}

pub fn once(ctx: &Context, args: &Args) -> Result<Followed> {
    poll(ctx, args)
}

/// Poll until stopped: every interval (±10%), backing off (up to 4 intervals) while
/// polls fail. Each change or failure is said on stderr/stdout as `install` says it.
pub fn run(ctx: &Context, args: Args) -> Result<std::convert::Infallible> {
    if ctx.flags.json {
        return Err(hinted(
            Code::BadInput,
            "follow prints one JSON object per run only with --once",
            "run `kiln-fetch follow … --once --json` from a timer, or follow without --json as a service",
        ));
    }
    let mut failures = 0u32;
    let mut said_removed = false;
    loop {
        match poll(ctx, &args) {
            Ok(f) => {
                failures = 0;
                // Said once; polled again (locally only) until an install is back.
                let say_removed = f.removed.is_some() && !said_removed;
                said_removed = f.removed.is_some();
                if say_removed || f.install.as_ref().is_some_and(|r| r.changed) {
                    plumbing::output::finish(&ctx.flags, "follow", Default::default(), Ok(f));
                }
            }
            Err(e) => {
                failures += 1;
                plumbing::error::show(&e);
                eprintln!("note: the current build keeps running; polling again");
            }
        }
        let factor = 1u32 << failures.min(2);
        std::thread::sleep(jitter(args.interval * factor));
    }
}

/// `d` ± 10%, from the clock's nanoseconds (no need for a random source here).
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    let spread = d / 10;
    let offset = spread.mul_f64(f64::from(nanos % 2001) / 1000.0);
    (d - spread) + offset
}
