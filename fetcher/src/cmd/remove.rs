//! `kiln-fetch remove PACKAGE`: take a package off the host.

use plumbing::output::{Human, Output};

use super::{Context, Opts};
use crate::error::Result;
use crate::install::Removed;

#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  kiln-fetch remove jq              its entry points, `current` and every build\n",
    "  kiln-fetch remove jq --dry-run    what would be removed\n\n",
    "Services are not stopped: stop a service (config management) before removing its\n",
    "package. The host keeps the channel sequences it has seen, so a reinstall still\n",
    "refuses a replayed channel pointer.\n\n",
    crate::exit_codes!()
))]
pub struct Args {
    /// The package to remove.
    pub package: String,
    /// Say what would be removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl Output for Removed {
    fn changed(&self) -> bool {
        self.changed
    }

    fn human(&self, out: &mut Human) {
        let builds = |b: &[u64]| b.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        match (self.changed, self.dry_run) {
            (false, _) => out.say(format!(
                "{} is not installed: nothing to remove",
                self.package
            )),
            (true, true) => out.say(format!(
                "would remove {} (builds {})",
                self.package,
                builds(&self.removed)
            )),
            (true, false) => out.say(format!(
                "{} removed (builds {})",
                self.package,
                builds(&self.removed)
            )),
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Removed> {
    let env = ctx.env(&[])?;
    let r = env
        .host(Opts {
            dry_run: args.dry_run,
            ..Opts::default()
        })
        .remove(&args.package);
    use crate::receipts::Outcome;
    match &r {
        Ok(rem) if rem.dry_run || !rem.changed => {}
        Ok(_) => crate::receipts::record(&env, &args.package, Outcome::Removed),
        Err(e) => crate::receipts::record(&env, &args.package, Outcome::Failed(e)),
    }
    r
}
