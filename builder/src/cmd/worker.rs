//! `kiln worker --server grpc://HOST:PORT [--instance NAME] [-j SLOTS] [--name NAME]`:
//! a BuildGrid bot that runs leased actions in kiln's Linux sandbox (see
//! `reapi/worker.rs`), until Ctrl-C.

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::cache::Cache;
use crate::error::{Result, bad_input};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln worker --server grpc://buildgrid:50051                 one slot per core
  kiln worker --server grpc://buildgrid:50051 -j 8 --name ci7 eight slots, bots ci7-0 .. ci7-7

Each slot is one bot session (bot id NAME-SLOT) offering the platform OSFamily, ISA and
kiln-sandbox=linux-v1; the server's config must list kiln-sandbox among its platform
property keys (docs/remote.md). Inputs and outputs pass through the local cache
($KILN_CACHE). A server that is down is retried every few seconds.

Exit codes: 0 after Ctrl-C, 2 bad input, 3 the sandbox is not available here.")]
pub struct Args {
    /// The REAPI server's Bots service: grpc://HOST:PORT or grpcs://HOST:PORT.
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The REAPI instance name (default: the server's default instance, "").
    #[arg(long, value_name = "NAME", default_value = "")]
    pub instance: String,
    /// The worker's name: bot ids are NAME-0, NAME-1, ... (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Serialize)]
pub struct Report {
    pub server: String,
    pub name: String,
    pub slots: usize,
    pub actions_run: usize,
    /// Whether any slot ever had a session with the server.
    pub connected: bool,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.actions_run > 0
    }

    fn human(&self, out: &mut Human) {
        if !self.connected {
            out.status(format!(
                "kiln worker {}: stopped; it never reached {}",
                self.name, self.server
            ));
            return;
        }
        out.status(format!(
            "kiln worker {}: stopped after running {} action{} in {} slot{}",
            self.name,
            self.actions_run,
            super::plural(self.actions_run),
            self.slots,
            super::plural(self.slots)
        ));
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let slots = match ctx.build.jobs {
        Some(0) => return Err(bad_input("-j takes a number of at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let name = match args.name {
        Some(n) => n,
        None => nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "kiln".into()),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(bad_input(format!(
            "--name {name:?}: use letters, digits, '-', '_' and '.'"
        )));
    }
    let client = crate::reapi::Client::new(&args.server, &args.instance)
        .map_err(|e| bad_input(format!("--server: {e}")))?;
    crate::sandbox::probe()?;
    let cache = Cache::open()?;
    ctx.ui().detail(format!(
        "kiln worker {name}: {} slot{} on {}",
        slots,
        super::plural(slots),
        client.name()
    ));
    let (actions_run, connected) =
        crate::reapi::worker::run(&client, &cache, &name, slots, ctx.ui());
    Ok(Report {
        server: client.name(),
        name,
        slots,
        actions_run,
        connected,
    })
}
