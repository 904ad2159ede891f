//! `kiln-fetch`, the on-host installer config management calls: install a package by
//! build number or by a channel's latest, verified byte for byte, switched atomically,
//! services restarted and health-checked, rolled back on failure. It must never leave
//! a host half-installed.

mod config;
mod download;
mod error;
mod install;
mod layout;
mod ops;
mod services;
mod state;
mod testhook;
mod unpack;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::error::{Code, Result, err, hinted};
use crate::install::{Host, Target};
use crate::layout::Layout;

const EXAMPLES: &str = "\
Examples:
  kiln-fetch install solr --version 42        install build 42 (a no-op if it is current)
  kiln-fetch install solr --channel prod      follow the prod channel
  kiln-fetch rollback solr                    back to the previous build
  kiln-fetch rollback solr --to 40            back to build 40
  kiln-fetch verify solr                      re-hash the installed files
  kiln-fetch install solr --version 42 --reinstall
                                              replace a changed copy with a fresh one
  kiln-fetch list                             what is installed and current";

/// The exit codes of the commands that change a host (concat! needs a literal).
macro_rules! exit_codes {
    () => {
        "Exit codes: 0 done (changed or not), 1 the work failed (signature, checksum, restart, health check), 2 bad input, 3 the environment (store unreachable, disk full). With --json, one object on stdout either way (docs/json.md)."
    };
}

const INSTALL_HELP: &str = concat!(
    "Examples:\n",
    "  kiln-fetch install solr --version 42            pin build 42 (a no-op if it is current)\n",
    "  kiln-fetch install solr --channel prod --json   follow prod; print one JSON object\n",
    "  kiln-fetch install solr --version 42 --dry-run  what would happen, changing nothing\n",
    "  kiln-fetch install solr --version 42 --reinstall  replace a drifted copy\n",
    "  kiln-fetch install jq --version 7 --restart nginx  restart nginx when jq changes\n\n",
    exit_codes!()
);

const ROLLBACK_HELP: &str = concat!(
    "Examples:\n",
    "  kiln-fetch rollback solr           back to the previous build in the history\n",
    "  kiln-fetch rollback solr --to 40   back to build 40 (fetched again if gone)\n\n",
    exit_codes!()
);

const LIST_HELP: &str = concat!(
    "Examples:\n",
    "  kiln-fetch list               every package\n",
    "  kiln-fetch list solr --json   one package, as one JSON object\n\n",
    "Exit codes: 0, or 2 if a package's state cannot be read (the others are still listed)."
);

const VERIFY_HELP: &str = concat!(
    "Examples:\n",
    "  kiln-fetch verify solr          re-hash every file of the current build\n",
    "  kiln-fetch verify solr --json   the drift as one JSON object\n\n",
    "Exit codes: 0 clean, 1 drift (the hint is the repair), 2 not installed."
);

const GC_HELP: &str = concat!(
    "Examples:\n",
    "  kiln-fetch gc            keep the config's `keep` builds per package; empty the download cache\n",
    "  kiln-fetch gc --keep 1   keep only current and the rollback target\n\n",
    "Exit codes: 0, or 2 if a package's state cannot be read (the others are still collected)."
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
    #[arg(short, long, global = true)]
    quiet: bool,
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Print one JSON object on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[arg(long, global = true)]
    no_progress: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install a build by number or by channel, and make it current.
    #[command(after_help = INSTALL_HELP)]
    Install {
        package: String,
        #[arg(
            long,
            value_name = "N",
            conflicts_with = "channel",
            required_unless_present = "channel"
        )]
        version: Option<u64>,
        #[arg(long, value_name = "C")]
        channel: Option<String>,
        /// Do not restart services.
        #[arg(long)]
        no_restart: bool,
        /// Also restart this service when the package changes (repeatable).
        #[arg(long, value_name = "NAME", value_parser = service_name)]
        restart: Vec<String>,
        /// Say what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Download and unpack a fresh copy even if the build is on the host (repairs a
        /// build `verify` found changed); restarts and health-checks like any change.
        #[arg(long)]
        reinstall: bool,
    },
    /// Switch back to the previous build (or --to N).
    #[command(after_help = ROLLBACK_HELP)]
    Rollback {
        package: String,
        #[arg(long, value_name = "N")]
        to: Option<u64>,
        #[arg(long)]
        no_restart: bool,
    },
    /// Installed builds, current, and the channel last followed.
    #[command(alias = "status", after_help = LIST_HELP)]
    List { package: Option<String> },
    /// Re-hash the current build's files; exit 1 on any drift.
    #[command(after_help = VERIFY_HELP)]
    Verify { package: String },
    /// Remove old builds (never current nor the rollback target).
    #[command(after_help = GC_HELP)]
    Gc {
        #[arg(long, value_name = "N")]
        keep: Option<usize>,
    },
    /// Print kiln-fetch's version.
    #[command(after_help = "Example:\n  kiln-fetch version --json\n\nExit codes: 0.")]
    Version,
}

fn main() -> ExitCode {
    // Health checks and service commands inherit only stdin, stdout and stderr.
    close_fds::set_fds_cloexec(3, &[]);
    // Modes never depend on the caller's umask (000 would make every directory and
    // state file world-writable): directories 0755, files 0644, as kiln-fetch asks.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    // With --json, exactly one JSON object on stdout, usage errors included.
    let json = std::env::args()
        .skip(1)
        .any(|a| a == "--json" || a.starts_with("--json="));
    let usage = |msg: &str| {
        eprintln!("error: {msg}\nhint: see kiln-fetch --help");
        if json {
            error::print_usage_failure(msg);
        }
        ExitCode::from(2)
    };
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if json && e.use_stderr() => {
            let _ = e.print();
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("bad usage");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            error::print_usage_failure(first);
            return ExitCode::from(2);
        }
        Err(e) if json => {
            // --help (or a version clap printed itself) as the one object.
            let text = e.render().to_string();
            let fields = error::fields(&json!({ "help": text }));
            error::print_object(error::object("help", false, fields, None));
            return ExitCode::SUCCESS;
        }
        Err(e) => e.exit(),
    };
    match (cli.print_version, &cli.cmd) {
        (true, Some(_)) => {
            return usage(
                "-V prints the version and takes no command: drop -V (or run kiln-fetch version)",
            );
        }
        (true, None) => cli.cmd = Some(Cmd::Version),
        (false, None) => {
            return usage("a command is required (install, rollback, list, verify, gc, version)");
        }
        (false, Some(_)) => {}
    }
    let Some(cmd) = cli.cmd.take() else {
        unreachable!("set above")
    };
    let command = cmd.name();
    let package = cmd.package().map(str::to_string);
    let json = cli.json.then_some((command, package.as_deref()));
    match run(cli, cmd) {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(error::report(&e, json) as u8),
    }
}

impl Cmd {
    fn package(&self) -> Option<&str> {
        match self {
            Cmd::Install { package, .. }
            | Cmd::Rollback { package, .. }
            | Cmd::Verify { package } => Some(package),
            Cmd::List { package } => package.as_deref(),
            Cmd::Gc { .. } | Cmd::Version => None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Cmd::Install { .. } => "install",
            Cmd::Rollback { .. } => "rollback",
            Cmd::List { .. } => "list",
            Cmd::Verify { .. } => "verify",
            Cmd::Gc { .. } => "gc",
            Cmd::Version => "version",
        }
    }
}

/// Print the one JSON object of a successful `command`.
fn print_json(command: &str, changed: bool, v: &impl serde::Serialize) {
    error::print_object(error::object(command, changed, error::fields(v), None));
}

/// Whether two paths name the same directory: resolved where they exist, else made
/// absolute (against the current directory) and compared.
fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    let full = |p: &std::path::Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    full(a).components().eq(full(b).components())
}

/// A service name as it reaches the service manager: a name, never a path or shell text.
fn service_name(s: &str) -> std::result::Result<String, String> {
    release::validate_package_name(s).map(|()| s.to_string())
}

fn run(cli: Cli, cmd: Cmd) -> Result<u8> {
    if let Cmd::Version = cmd {
        let version = env!("CARGO_PKG_VERSION");
        if cli.json {
            print_json("version", false, &json!({"version": version}));
        } else {
            println!("kiln-fetch {version}");
        }
        return Ok(0);
    }
    let mut config = Config::load(cli.config.as_deref())?;
    if let Cmd::Install { restart, .. } = &cmd
        && !restart.is_empty()
        && matches!(config.manager, config::Manager::None)
    {
        return Err(hinted(
            Code::BadInput,
            format!(
                "--restart {} needs a service manager, and the config names none",
                restart.join(", ")
            ),
            "set [services] manager in fetch.toml (runit, systemd or command), or drop --restart",
        ));
    }
    let root = cli.root.clone().unwrap_or_else(|| config.root.clone());
    // The config's service manager acts on the machine the config's root is; a --root
    // elsewhere is a scratch host, whose installs never restart the machine's services.
    if !matches!(config.manager, config::Manager::None) && !same_dir(&root, &config.root) {
        if !cli.quiet {
            eprintln!(
                "note: --root {} is not the config's root ({}): its service manager acts on this machine, so no service is restarted or health-checked; name this root in the config (root = ...) to restart its services",
                root.display(),
                config.root.display()
            );
        }
        config.manager = config::Manager::None;
        config.check_health = false;
    }
    // --store is relative to where kiln-fetch runs, the config's store to the config.
    let store = match (&cli.store, &config.store) {
        (Some(u), _) => Some(store::open(u, &std::env::current_dir()?).map_err(error::store)?),
        (None, Some(u)) => Some(store::open(u, &config.store_base).map_err(error::store)?),
        (None, None) => None,
    };
    let bar = if !cli.no_progress && !cli.quiet && !cli.json && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "downloading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let (no_restart, restart, reinstall, dry_run) = match &cmd {
        Cmd::Install {
            no_restart,
            restart,
            reinstall,
            dry_run,
            ..
        } => (*no_restart, restart.clone(), *reinstall, *dry_run),
        Cmd::Rollback { no_restart, .. } => (*no_restart, vec![], false, false),
        _ => (false, vec![], false, false),
    };
    let host = Host {
        layout: Layout::new(root),
        config: &config,
        store,
        no_restart,
        reinstall,
        dry_run,
        restart,
        progress: &progress,
        keys: Default::default(),
    };
    let say = |msg: String| {
        if !cli.quiet && !cli.json {
            println!("{msg}");
        }
    };
    match cmd {
        Cmd::Install {
            package,
            version,
            channel,
            dry_run,
            ..
        } => {
            let target = match (version, channel) {
                (Some(n), None) => Target::Version(n),
                (None, Some(c)) => Target::Channel(c),
                _ => {
                    return Err(err(
                        Code::BadInput,
                        "give exactly one of --version N and --channel C",
                    ));
                }
            };
            let r = host.install(&package, &target, dry_run);
            bar.finish_and_clear();
            report(cli.json.then_some("install"), &say, &r?);
        }
        Cmd::Rollback { package, to, .. } => {
            let r = host.rollback(&package, to)?;
            report(cli.json.then_some("rollback"), &say, &r);
        }
        Cmd::List { package } => {
            let (rows, errors) = ops::status(&host.layout, package.as_deref())?;
            if !cli.json {
                for r in &rows {
                    let builds: Vec<String> = r.installed.iter().map(u64::to_string).collect();
                    let chan = r
                        .channel
                        .as_ref()
                        .map(|c| format!(", following {c} (sequence {})", r.sequence.unwrap_or(0)))
                        .unwrap_or_default();
                    println!(
                        "{}: current {}, installed [{}], rollback target {}{chan}",
                        r.package,
                        r.current.map_or("none".into(), |b| b.to_string()),
                        builds.join(", "),
                        r.rollback_target.map_or("none".into(), |b| b.to_string()),
                    );
                }
            }
            // Every broken package is shown; the run fails with the first one's code.
            let code = errors.iter().map(error::show).next();
            if cli.json {
                let fields = error::fields(&json!({"packages": rows}));
                error::print_object(error::object("list", false, fields, errors.first()));
            }
            if let Some(code) = code {
                return Ok(code as u8);
            }
        }
        Cmd::Verify { package } => {
            let d = ops::verify(&host.layout, &package)?;
            if !cli.json {
                for p in &d.changed {
                    println!("changed: {p}");
                }
                for p in &d.missing {
                    println!("missing: {p}");
                }
                for p in &d.extra {
                    println!("extra: {p}");
                }
                if d.is_clean() {
                    say(format!(
                        "{} build {}: every file matches its manifest",
                        d.package, d.build
                    ));
                }
            }
            let drift = (!d.is_clean()).then(|| {
                hinted(
                    Code::Failed,
                    format!(
                        "{} build {} has drifted from its manifest: {}",
                        d.package,
                        d.build,
                        d.summary()
                    ),
                    format!(
                        "put a clean copy in place: kiln-fetch install {} --version {} --reinstall",
                        d.package, d.build
                    ),
                )
            });
            let code = drift.as_ref().map(error::show);
            if cli.json {
                let fields = error::fields(&json!({
                    "package": d.package, "build": d.build, "ok": d.is_clean(),
                    "modified": d.changed, "missing": d.missing, "extra": d.extra,
                }));
                error::print_object(error::object("verify", false, fields, drift.as_ref()));
            }
            if let Some(code) = code {
                return Ok(code as u8);
            }
        }
        Cmd::Gc { keep } => {
            let keep = keep.unwrap_or(config.keep).max(1);
            let mut removed = serde_json::Map::new();
            // One package's broken state never stops the others, nor the cache.
            let mut errors = Vec::new();
            for p in host.layout.packages() {
                match host.collect(&p, keep) {
                    Ok(r) => {
                        if !r.is_empty() {
                            say(format!(
                                "{p}: removed builds {}",
                                r.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                            ));
                        }
                        removed.insert(p, json!(r));
                    }
                    Err(e) => errors.push(e),
                }
            }
            let cache = match download::clean_cache(&host.layout) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(e);
                    Some((0, 0))
                }
            };
            let (files, bytes) = cache.unwrap_or_default();
            if cache.is_none() {
                eprintln!("note: an install is using var/cache/kiln; its downloads were left");
            } else if files > 0 {
                say(format!("removed {files} cached downloads ({bytes} bytes)"));
            }
            let changed = files > 0
                || removed
                    .values()
                    .any(|v| v.as_array().is_some_and(|a| !a.is_empty()));
            let code = errors.iter().map(error::show).next();
            if cli.json {
                let fields = error::fields(&json!({
                    "removed": removed, "cache_files_removed": files, "cache_bytes_freed": bytes,
                }));
                error::print_object(error::object("gc", changed, fields, errors.first()));
            } else if !changed && code.is_none() {
                say("nothing to remove".into());
            }
            if let Some(code) = code {
                return Ok(code as u8);
            }
        }
        Cmd::Version => unreachable!("answered before the config is read"),
    }
    Ok(0)
}

fn report(json: Option<&str>, say: &dyn Fn(String), r: &install::Report) {
    if let Some(command) = json {
        print_json(command, r.changed, r);
        return;
    }
    let from = |p: Option<u64>| p.map_or("nothing".to_string(), |b| format!("build {b}"));
    if let Some(plan) = &r.dry_run {
        if r.changed {
            say(format!(
                "would switch {} from {} to build {}: download {} bytes; restart {}",
                r.package,
                from(plan.switch_from),
                plan.switch_to,
                plan.download_bytes,
                if plan.restart.is_empty() {
                    "nothing".into()
                } else {
                    plan.restart.join(", ")
                }
            ));
        } else {
            say(format!(
                "{} build {} is current: nothing to do",
                r.package, r.build
            ));
        }
        return;
    }
    if let Some(b) = r.recovered {
        say(format!(
            "finished the interrupted install of {} build {b}",
            r.package
        ));
    }
    if r.changed {
        let restarted = if r.restarted.is_empty() {
            String::new()
        } else {
            format!("; restarted {}", r.restarted.join(", "))
        };
        say(format!(
            "{} build {} installed (was {}){restarted}",
            r.package,
            r.build,
            from(r.previous)
        ));
    } else {
        say(format!("{} build {} unchanged", r.package, r.build));
    }
}
