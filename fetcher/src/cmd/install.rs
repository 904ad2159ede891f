//! `kiln-fetch install PACKAGE (--version N | --channel C)`.

use plumbing::output::{Human, Output};

use super::{Context, Opts, build_or_nothing};
use crate::error::{Code, Result, err};
use crate::install::{Report, Target};

#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  kiln-fetch install solr --version 42            pin build 42 (a no-op if it is current)\n",
    "  kiln-fetch install solr --channel prod --json   follow prod; print one JSON object\n",
    "  kiln-fetch install solr --version 42 --dry-run  what would happen, changing nothing\n",
    "  kiln-fetch install solr --version 42 --reinstall  replace a drifted copy\n",
    "  kiln-fetch install jq --version 7 --restart nginx  restart nginx when jq changes\n\n",
    crate::exit_codes!()
))]
pub struct Args {
    /// The package (its name in the store).
    pub package: String,
    /// The build number to install.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "channel",
        required_unless_present = "channel"
    )]
    pub version: Option<u64>,
    /// Install the build this channel points at.
    #[arg(long, value_name = "C")]
    pub channel: Option<String>,
    /// Do not restart services.
    #[arg(long)]
    pub no_restart: bool,
    /// Also restart this service when the package changes (repeatable).
    #[arg(long, value_name = "NAME", value_parser = service_name)]
    pub restart: Vec<String>,
    /// Say what would happen; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Download and unpack a fresh copy even if the build is on the host (repairs a
    /// build `verify` found changed); restarts and health-checks like any change.
    #[arg(long)]
    pub reinstall: bool,
}

/// A service name as it reaches the service manager: a name, never a path or shell text.
fn service_name(s: &str) -> std::result::Result<String, String> {
    release::validate_package_name(s).map(|()| s.to_string())
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.changed
    }

    fn human(&self, out: &mut Human) {
        if let Some(plan) = &self.dry_run {
            if self.changed && plan.switch_from == Some(plan.switch_to) && !self.relinked.is_empty()
            {
                out.say(format!(
                    "would link {} again (removed from the entry points) for {} build {}",
                    self.relinked.join(", "),
                    self.package,
                    self.build
                ));
            } else if self.changed {
                out.say(format!(
                    "would switch {} from {} to build {}: download {} bytes; restart {}",
                    self.package,
                    build_or_nothing(plan.switch_from),
                    plan.switch_to,
                    plan.download_bytes,
                    if plan.restart.is_empty() {
                        "nothing".into()
                    } else {
                        plan.restart.join(", ")
                    }
                ));
            } else {
                out.say(format!(
                    "{} build {} is current: nothing to do",
                    self.package, self.build
                ));
            }
            return;
        }
        if let Some(b) = self.recovered {
            out.say(format!(
                "finished the interrupted install of {} build {b}",
                self.package
            ));
        }
        if !self.relinked.is_empty() {
            out.say(format!(
                "{} build {} is current; linked {} again (it had been removed)",
                self.package,
                self.build,
                self.relinked.join(", ")
            ));
        } else if self.changed {
            let restarted = if self.restarted.is_empty() {
                String::new()
            } else {
                format!("; restarted {}", self.restarted.join(", "))
            };
            out.say(format!(
                "{} build {} installed (was {}){restarted}",
                self.package,
                self.build,
                build_or_nothing(self.previous)
            ));
        } else {
            out.say(format!("{} build {} unchanged", self.package, self.build));
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let target = match (args.version, args.channel) {
        (Some(n), None) => Target::Version(n),
        (None, Some(c)) => Target::Channel(c),
        _ => {
            return Err(err(
                Code::BadInput,
                "give exactly one of --version N and --channel C",
            ));
        }
    };
    let env = ctx.env(&args.restart)?;
    let r = env
        .host(Opts {
            no_restart: args.no_restart,
            reinstall: args.reinstall,
            dry_run: args.dry_run,
            restart: args.restart,
        })
        .install(&args.package, &target, args.dry_run);
    env.bar.finish();
    if !args.dry_run {
        crate::receipts::record(
            &env,
            &args.package,
            crate::receipts::Outcome::of_install(&r),
        );
    }
    r
}
