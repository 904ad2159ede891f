//! `kiln`: build hermetic bundles from a workspace and publish them by build number.

mod action;
mod analyze;
mod bundle;
mod cache;
mod cmd;
mod engine;
mod error;
mod exec;
mod fetch;
mod glob;
mod load;
mod outdir;
mod publish;
mod pyindex;
mod python;
mod reapi;
mod remote;
mod sandbox;
mod trees;
mod ui;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use plumbing::flags::GlobalFlags;
use plumbing::output::finish;
use serde_json::Map;

use crate::cmd::Context;

const EXAMPLES: &str = "\
Examples:
  kiln build                                  build every target (//...)
  kiln build //packages/solr:solr             build one bundle
  kiln test //...                             run every test (passing results are cached)
  kiln publish --build-number 42              publish every bundle as build 42
  kiln promote solr 42 --channel prod         point the prod channel at build 42
  kiln releases solr                          list builds and channels
  kiln releases solr --verify --signing-key ci.key
                                              check every signature and the history chain
  kiln keygen --root --out root.key           an offline root key (keep it off CI)
  kiln keys --root-key root.key --grant '*=kiln-ed25519:...'
                                              sign the store's keys record (rotation)
  kiln query //...                            list every target
  kiln query rdeps @solr//:files              what depends on the Solr archive
  kiln sha256 https://example.org/x.tar.gz    the sha256 to pin in WORKSPACE.toml
  kiln gc --max-size 20G                      trim the local cache

Exit codes: 0 success, 1 the work failed (a build or test, a checksum, a signature),
2 bad input (usage, a malformed file, an unknown label), 3 the environment (network,
store, credentials, disk). With --json, one object on stdout either way (docs/json.md).";

#[derive(Parser)]
// Our own -V/--version: clap's would print the version and exit 0 for `kiln -V build`,
// and CI would record a build that never ran.
#[command(name = "kiln", version, disable_version_flag = true, about = "Hermetic builds and deterministic bundles, published by build number.", after_help = EXAMPLES)]
struct Cli {
    /// Print the version (alone: with a command it is an error).
    #[arg(short = 'V', long = "version")]
    print_version: bool,
    /// Run as if started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(flatten)]
    flags: GlobalFlags,
    #[command(flatten)]
    build: cmd::BuildFlags,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build targets; prints each bundle's label, path and sha256.
    Build(cmd::build::Args),
    /// Run tests; passing results are cached and print "(cached) PASSED".
    Test(cmd::test::Args),
    /// Download and extract the archives the targets use, into the cache.
    Fetch(cmd::fetch::Args),
    /// List targets, or ask what depends on what (--output label|json|dot).
    Query(cmd::query::Args),
    /// Build bundles and publish them to the store as build N.
    Publish(cmd::publish::Args),
    /// Point a channel at a published build.
    Promote(cmd::promote::Args),
    /// List a package's builds and where its channels point.
    Releases(cmd::releases::Args),
    /// The fleet from its receipts: which hosts run which build of a package.
    Status(cmd::status::Args),
    /// Remove kiln-out/ (the cache is kept).
    Clean(cmd::clean::Args),
    /// Trim the local cache (least recently used first) and sweep leftovers of killed runs.
    Gc(cmd::gc::Args),
    /// Print the sha256 of files or URLs (the pin for WORKSPACE.toml).
    Sha256(cmd::sha256::Args),
    /// Write a new ed25519 key pair for signing: FILE (secret) and FILE.pub.
    Keygen(cmd::keygen::Args),
    /// Sign and publish the store's keys record with the root key: which release keys
    /// may sign which packages.
    Keys(cmd::keys::Args),
    /// Run actions for a REAPI server (BuildGrid's Bots API) in kiln's sandbox.
    Worker(cmd::worker::Args),
    /// Print a shell completion script.
    Completions(cmd::completions::Args),
    /// Print kiln's man page, or write every page into a directory.
    Man(cmd::completions::ManArgs),
}

fn main() -> ExitCode {
    // Nothing the caller left open reaches an action, a sandbox stage or any other
    // process kiln starts: only stdin, stdout and stderr are inherited.
    close_fds::set_fds_cloexec(3, &[]);
    // Sandbox stages re-execute this binary; they must run before anything else.
    sandbox::entry();
    let cli = match plumbing::output::parse::<Cli>("kiln") {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let _ = ctrlc::set_handler(|| {
        if sandbox::CANCELLED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("kiln: interrupted; stopping running actions (Ctrl-C again to quit at once)");
    });
    let json = cli.flags.json;
    let cmd = match (cli.print_version, cli.cmd) {
        (true, Some(_)) => {
            return plumbing::output::usage_failure(
                json,
                "kiln",
                "-V prints the version and takes no command: drop -V",
            );
        }
        (true, None) => {
            let v = plumbing::output::Version {
                program: "kiln",
                version: env!("CARGO_PKG_VERSION"),
            };
            return finish(&cli.flags, "version", Map::new(), Ok(v));
        }
        (false, None) => {
            return plumbing::output::usage_failure(
                json,
                "kiln",
                "a command is required (build, test, publish, ...; see kiln --help)",
            );
        }
        (false, Some(c)) => c,
    };
    let mut ctx = Context {
        dir: cli.dir,
        flags: cli.flags,
        build: cli.build,
    };
    let none = Map::new;
    let f = ctx.flags.clone();
    match cmd {
        Cmd::Build(a) => finish(&f, "build", none(), cmd::build::run(&ctx, a)),
        Cmd::Test(a) => finish(&f, "test", none(), cmd::test::run(&ctx, a)),
        Cmd::Fetch(a) => finish(&f, "fetch", none(), cmd::fetch::run(&ctx, a)),
        Cmd::Query(a) => {
            // `--output json` is `--json`.
            ctx.flags.json |= a.output == cmd::query::Format::Json;
            let f = ctx.flags.clone();
            finish(&f, "query", none(), cmd::query::run(&ctx, a))
        }
        Cmd::Publish(a) => finish(&f, "publish", none(), cmd::publish::run(&ctx, a)),
        Cmd::Promote(a) => {
            let pkg = package(&a.package);
            finish(&f, "promote", pkg, cmd::promote::run(&ctx, a))
        }
        Cmd::Releases(a) => {
            let pkg = package(&a.package);
            finish(&f, "releases", pkg, cmd::releases::run(&ctx, a))
        }
        Cmd::Status(a) => {
            let pkg = package(&a.package);
            finish(&f, "status", pkg, cmd::status::run(&ctx, a))
        }
        Cmd::Clean(a) => finish(&f, "clean", none(), cmd::clean::run(&ctx, a)),
        Cmd::Gc(a) => finish(&f, "gc", none(), cmd::gc::run(&ctx, a)),
        Cmd::Sha256(a) => finish(&f, "sha256", none(), cmd::sha256::run(&ctx, a)),
        Cmd::Keygen(a) => finish(&f, "keygen", none(), cmd::keygen::run(&ctx, a)),
        Cmd::Keys(a) => finish(&f, "keys", none(), cmd::keys::run(&ctx, a)),
        Cmd::Worker(a) => finish(&f, "worker", none(), cmd::worker::run(&ctx, a)),
        Cmd::Completions(a) => {
            let script = plumbing::docs::completions(Cli::command(), a.shell);
            let out = plumbing::docs::Completions {
                shell: a.shell,
                script,
            };
            finish(&f, "completions", none(), Ok(out))
        }
        Cmd::Man(a) => finish(
            &f,
            "man",
            none(),
            plumbing::docs::man(Cli::command(), a.out.as_deref()),
        ),
    }
}

/// The `package` field a failed command's JSON object still carries.
fn package(p: &str) -> Map<String, serde_json::Value> {
    let mut m = Map::new();
    m.insert("package".into(), p.into());
    m
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_argument_has_help_text() {
        use clap::CommandFactory;
        let missing = plumbing::docs::args_without_help(super::Cli::command());
        assert!(
            missing.is_empty(),
            "arguments without help text: {missing:?}"
        );
    }
}
