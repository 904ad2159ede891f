//! `kiln-fetch`, the on-host installer config management calls: install a package by
//! build number or by a channel's latest, verified byte for byte, switched atomically,
//! services restarted and health-checked, rolled back on failure. It must never leave
//! a host half-installed.

mod cmd;
mod config;
mod download;
mod error;
mod install;
mod layout;
mod ops;
mod receipts;
mod services;
mod state;
mod unpack;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use plumbing::flags::GlobalFlags;
use plumbing::output::{finish, usage_failure};
use serde_json::Map;

const EXAMPLES: &str = concat!(
    "Examples:
  kiln-fetch install solr --version 42        install build 42 (a no-op if it is current)
  kiln-fetch install solr --channel prod      follow the prod channel
  kiln-fetch rollback solr                    back to the previous build
  kiln-fetch rollback solr --to 40            back to build 40
  kiln-fetch verify solr                      re-hash the installed files
  kiln-fetch install solr --version 42 --reinstall
                                              replace a changed copy with a fresh one
  kiln-fetch list                             what is installed and current
  kiln-fetch follow solr --channel prod --once   one poll of the channel (a timer)
  kiln-fetch remove jq                        take a package off the host

",
    exit_codes!()
);

#[derive(Parser)]
// No `--version` flag: `kiln-fetch --version 3 install x` must not print a version and
// exit 0 (config management would record success); `-V` and `kiln-fetch version` say it.
#[command(name = "kiln-fetch", version, disable_version_flag = true, about = "Install kiln bundles on a host: verified, atomic, with restarts and rollback.", after_help = EXAMPLES)]
struct Cli {
    /// Print the version (alone: with a command it is an error, never a silent success).
    #[arg(short = 'V')]
    print_version: bool,
    /// Config file; default /etc/kiln/fetch.toml (optional when --store is given).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Put the whole host layout under DIR (default the config's root, else /).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Store URL or path (overrides the config's store).
    #[arg(long, global = true, value_name = "URL")]
    store: Option<String>,
    #[command(flatten)]
    flags: GlobalFlags,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install a build by number or by channel, and make it current.
    Install(cmd::install::Args),
    /// Switch back to the previous build (or --to N).
    Rollback(cmd::rollback::Args),
    /// Installed builds, current, and the channel last followed.
    #[command(alias = "status")]
    List(cmd::list::Args),
    /// Re-hash the current build's files; exit 1 on any drift.
    Verify(cmd::verify::Args),
    /// Take a package off the host: its entry points, `current` and every build.
    Remove(cmd::remove::Args),
    /// Keep a package at a channel's build: poll its pointer, install when it moves.
    Follow(cmd::follow::Args),
    /// Remove old builds (never current nor the rollback target).
    Gc(cmd::gc::Args),
    /// Print kiln-fetch's version.
    #[command(after_help = "Example:\n  kiln-fetch version --json\n\nExit codes: 0.")]
    Version,
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  kiln-fetch completions bash > /etc/bash_completion.d/kiln-fetch
  kiln-fetch completions zsh > \"${fpath[1]}/_kiln-fetch\"

Exit codes: 0.")]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: plumbing::docs::Shell,
    },
    /// Print kiln-fetch's man page, or write every page into a directory.
    #[command(after_help = "Examples:
  kiln-fetch man | man -l -
  kiln-fetch man --out /usr/local/share/man/man1

Exit codes: 0, 3 the directory cannot be written.")]
    Man {
        /// Write every page into DIR instead of printing kiln-fetch.1.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // Health checks and service commands inherit only stdin, stdout and stderr.
    close_fds::set_fds_cloexec(3, &[]);
    // Modes never depend on the caller's umask (000 would make every directory and
    // state file world-writable): directories 0755, files 0644, as kiln-fetch asks.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let cli = match plumbing::output::parse::<Cli>("kiln-fetch") {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let json = cli.flags.json;
    let cmd = match (cli.print_version, cli.cmd) {
        (true, Some(_)) => {
            return usage_failure(
                json,
                "kiln-fetch",
                "-V prints the version and takes no command: drop -V (or run kiln-fetch version)",
            );
        }
        (true, None) => Cmd::Version,
        (false, None) => {
            return usage_failure(
                json,
                "kiln-fetch",
                "a command is required (install, rollback, remove, follow, list, verify, gc, version)",
            );
        }
        (false, Some(c)) => c,
    };
    let ctx = cmd::Context {
        flags: cli.flags,
        config: cli.config,
        root: cli.root,
        store: cli.store,
    };
    let f = &ctx.flags;
    let package = |p: Option<&str>| {
        let mut m = Map::new();
        if let Some(p) = p {
            m.insert("package".into(), p.into());
        }
        m
    };
    match cmd {
        Cmd::Install(a) => {
            let pkg = package(Some(&a.package));
            finish(f, "install", pkg, cmd::install::run(&ctx, a))
        }
        Cmd::Rollback(a) => {
            let pkg = package(Some(&a.package));
            finish(f, "rollback", pkg, cmd::rollback::run(&ctx, a))
        }
        Cmd::List(a) => {
            let pkg = package(a.package.as_deref());
            finish(f, "list", pkg, cmd::list::run(&ctx, a))
        }
        Cmd::Verify(a) => {
            let pkg = package(Some(&a.package));
            finish(f, "verify", pkg, cmd::verify::run(&ctx, a))
        }
        Cmd::Remove(a) => {
            let pkg = package(Some(&a.package));
            finish(f, "remove", pkg, cmd::remove::run(&ctx, a))
        }
        Cmd::Follow(a) if a.once => {
            let pkg = package(Some(&a.package));
            finish(f, "follow", pkg, cmd::follow::once(&ctx, &a))
        }
        Cmd::Follow(a) => {
            let pkg = package(Some(&a.package));
            match cmd::follow::run(&ctx, a) {
                Err(e) => plumbing::output::fail(f.json, "follow", pkg, &e),
            }
        }
        Cmd::Gc(a) => finish(f, "gc", Map::new(), cmd::gc::run(&ctx, a)),
        Cmd::Version => finish(
            f,
            "version",
            Map::new(),
            Ok(plumbing::output::Version {
                program: "kiln-fetch",
                version: env!("CARGO_PKG_VERSION"),
            }),
        ),
        Cmd::Completions { shell } => {
            let script = plumbing::docs::completions(Cli::command(), shell);
            let out = plumbing::docs::Completions { shell, script };
            finish(f, "completions", Map::new(), Ok(out))
        }
        Cmd::Man { out } => finish(
            f,
            "man",
            Map::new(),
            plumbing::docs::man(Cli::command(), out.as_deref()),
        ),
    }
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
