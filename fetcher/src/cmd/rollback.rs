//! `kiln-fetch rollback PACKAGE [--to N]`.

use super::{Context, Opts};
use crate::error::Result;
use crate::install::Report;

#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  kiln-fetch rollback solr           back to the previous build in the history\n",
    "  kiln-fetch rollback solr --to 40   back to build 40 (fetched again if gone)\n\n",
    crate::exit_codes!()
))]
pub struct Args {
    /// The package to switch back.
    pub package: String,
    /// The build to go back to; default the previous one in the history.
    #[arg(long, value_name = "N")]
    pub to: Option<u64>,
    /// Do not restart services.
    #[arg(long)]
    pub no_restart: bool,
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let env = ctx.env(&[])?;
    let r = env
        .host(Opts {
            no_restart: args.no_restart,
            ..Opts::default()
        })
        .rollback(&args.package, args.to);
    env.bar.finish();
    use crate::receipts::Outcome;
    let outcome = match &r {
        Ok(rep) if rep.changed => Outcome::RolledBack { from: rep.previous },
        Ok(_) => Outcome::Installed { changed: false },
        Err(e) => Outcome::Failed(e),
    };
    crate::receipts::record(&env, &args.package, outcome);
    r
}
