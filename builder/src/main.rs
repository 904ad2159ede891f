//! `kiln`: build hermetic bundles from a workspace and publish them by build number.

mod analyze;
mod bundle;
mod cache;
mod engine;
mod error;
mod exec;
mod fetch;
mod glob;
mod load;
mod outdir;
mod publish;
mod remote;
mod sandbox;
mod trees;
mod ui;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rules::Label;
use serde_json::json;

use crate::cache::Cache;
use crate::engine::{Session, label_list};
use crate::error::{Code, Result, bad_input, with_hint};
use crate::fetch::FetchOptions;
use crate::load::Graph;
use crate::ui::Ui;
use crate::workspace::Workspace;

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
  kiln query rdeps @solr//:files              what depends on the Solr archive
  kiln sha256 https://example.org/x.tar.gz    the sha256 to pin in WORKSPACE.toml";

#[derive(Parser)]
#[command(name = "kiln", version, about = "Hermetic builds and deterministic bundles, published by build number.", after_help = EXAMPLES)]
struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Print only errors and results.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Say more (repeatable).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Print results as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    no_progress: bool,
    /// Use only archives already in the cache (or in a --distdir).
    #[arg(long, global = true)]
    offline: bool,
    /// A directory of archive files, looked up by file name before any download.
    #[arg(long, global = true, value_name = "DIR")]
    distdir: Vec<PathBuf>,
    /// How many actions run at once; default the number of cores.
    #[arg(short = 'j', long = "jobs", global = true, value_name = "N")]
    jobs: Option<usize>,
    /// Where actions run: `linux` (namespaces; the default) or `none` (no isolation).
    #[arg(long, global = true, value_enum, default_value = "linux")]
    sandbox: sandbox::Mode,
    /// A remote build cache shared by CI workers (overrides [cache] url).
    #[arg(long, global = true, env = "KILN_REMOTE_CACHE", value_name = "URL")]
    remote_cache: Option<String>,
    /// `read` never writes the remote cache (pull-request builds); overrides [cache] mode.
    #[arg(
        long,
        global = true,
        env = "KILN_REMOTE_CACHE_MODE",
        value_name = "MODE"
    )]
    remote_cache_mode: Option<CacheModeArg>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CacheModeArg {
    Read,
    ReadWrite,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build targets; prints each bundle's label, path and sha256.
    Build {
        /// Labels or patterns (//..., //pkg/..., //pkg:all); default //...
        patterns: Vec<String>,
    },
    /// Run tests; passing results are cached and print "(cached) PASSED".
    Test {
        /// Labels or patterns; default //...
        patterns: Vec<String>,
    },
    /// Download and extract the archives the targets use, into the cache.
    Fetch { patterns: Vec<String> },
    /// Ask the target graph.
    Query {
        #[command(subcommand)]
        query: Query,
    },
    /// Build bundles and publish them to the store as build N.
    Publish {
        patterns: Vec<String>,
        /// The build number (a positive integer); default $BUILD_NUMBER.
        #[arg(long, env = "BUILD_NUMBER", value_name = "N")]
        build_number: Option<String>,
        /// Store URL or path; default [store] url in WORKSPACE.toml, else file://.kiln/store.
        #[arg(long, env = "KILN_STORE", value_name = "URL")]
        store: Option<String>,
        /// Also point this channel at the new build.
        #[arg(long, value_name = "C")]
        channel: Option<String>,
        /// Sign the release records (and channel pointer) with this key; default
        /// $KILN_SIGNING_KEY.
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
    },
    /// Point a channel at a published build.
    Promote {
        package: String,
        build: String,
        #[arg(long, value_name = "C")]
        channel: String,
        /// Why, for the channel's history.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Hosts refuse to follow the pointer after this long (e.g. 30d).
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        expires: Option<std::time::Duration>,
        /// Sign the pointer with this key; default $KILN_SIGNING_KEY.
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
        /// Move a signed channel without a key (hosts that require signatures refuse it).
        #[arg(long)]
        allow_unsigned: bool,
        #[arg(long, env = "KILN_STORE", value_name = "URL")]
        store: Option<String>,
    },
    /// List a package's builds and where its channels point.
    Releases {
        package: String,
        #[arg(long, env = "KILN_STORE", value_name = "URL")]
        store: Option<String>,
        /// Check every signature and each channel's history chain, from the store alone.
        #[arg(long)]
        verify: bool,
        /// A public key whose signatures count (repeatable); default the public half of
        /// --signing-key or $KILN_SIGNING_KEY.
        #[arg(long = "trusted-key", value_name = "KEY")]
        trusted_keys: Vec<String>,
        /// With --verify: the signing key whose public half to trust.
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
    },
    /// Remove kiln-out/ (the cache is kept).
    Clean,
    /// Print the sha256 of files or URLs (the pin for WORKSPACE.toml); a downloaded URL
    /// stays in the cache, so the build that follows does not fetch it again.
    Sha256 {
        /// File paths or http(s):// URLs.
        #[arg(required = true)]
        inputs: Vec<String>,
    },
    /// Write a new ed25519 key pair for signing: FILE (secret) and FILE.pub.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A root key: it signs only keys records (`kiln keys`); keep it offline.
        #[arg(long)]
        root: bool,
    },
    /// Sign and publish the store's keys record with the root key: which release keys
    /// may sign which packages. Rotation and revocation are a new record.
    Keys {
        /// The root key (`kiln keygen --root`); default $KILN_ROOT_KEY.
        #[arg(long, value_name = "FILE")]
        root_key: Option<PathBuf>,
        /// PACKAGES=KEY: a release key and the packages it may sign (`*` for all, or
        /// `solr,hello`); repeatable.
        #[arg(long = "grant", value_name = "PACKAGES=KEY", required = true)]
        grants: Vec<String>,
        /// The record's version; default one past the store's.
        #[arg(long)]
        version: Option<u64>,
        /// Hosts refuse the record after this long.
        #[arg(long, default_value = "365d", value_parser = humantime::parse_duration)]
        expires: std::time::Duration,
        #[arg(long, env = "KILN_STORE", value_name = "URL")]
        store: Option<String>,
    },
}

#[derive(Subcommand)]
enum Query {
    /// Everything LABEL depends on, directly or not.
    Deps { label: String },
    /// Every target that depends on LABEL, directly or not.
    Rdeps { label: String },
}

fn main() -> ExitCode {
    // Nothing the caller left open reaches an action, a sandbox stage or any other
    // process kiln starts: only stdin, stdout and stderr are inherited.
    close_fds::set_fds_cloexec(3, &[]);
    // Sandbox stages re-execute this binary; they must run before anything else.
    sandbox::entry();
    let cli = Cli::parse();
    let _ = ctrlc::set_handler(|| {
        if sandbox::CANCELLED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("kiln: interrupted; stopping running actions (Ctrl-C again to quit at once)");
    });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(error::report(&e) as u8),
    }
}

fn patterns(p: Vec<String>) -> Vec<String> {
    if p.is_empty() {
        vec!["//...".into()]
    } else {
        p
    }
}

fn parse_build_number(raw: Option<String>) -> Result<u64> {
    let raw = raw.ok_or_else(|| {
        with_hint(
            Code::BadInput,
            "no build number",
            "pass --build-number N or set BUILD_NUMBER (CI systems set it for you)",
        )
    })?;
    match raw.parse::<u64>() {
        Ok(n) if n > 0 && !raw.starts_with('0') => Ok(n),
        _ => Err(bad_input(format!(
            "build number {raw:?} is not a positive whole number"
        ))),
    }
}

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

fn run(cli: Cli) -> Result<()> {
    let ui = Ui::new(cli.quiet, cli.verbose, cli.json, cli.no_progress);
    if let Cmd::Keygen { out, root } = &cli.cmd {
        let public = publish::keygen(out)?;
        if ui.json {
            print_json(
                &json!({"public_key": public.to_string(), "key_id": public.id(), "secret_key_file": out, "root": root}),
            );
        } else {
            println!("{public}");
            let how = if *root {
                "a root key: keep it offline; it signs only keys records (kiln keys), and hosts pin it with trusted_root"
            } else {
                "add the line above to trusted_keys on hosts, or grant it in the keys record (kiln keys)"
            };
            ui.status(format!(
                "kiln: wrote {} (secret, mode 0600) and {}.pub; key id {}; {how}",
                out.display(),
                out.display(),
                public.id()
            ));
        }
        return Ok(());
    }
    if let Cmd::Sha256 { inputs } = &cli.cmd {
        let mut rows = Vec::new();
        for input in inputs {
            let digest = if input.starts_with("http://") || input.starts_with("https://") {
                fetch::hash_url(&Cache::open()?, input, ui)?
            } else if std::path::Path::new(input).is_file() {
                cache::hash_file(std::path::Path::new(input))?.1
            } else {
                return Err(with_hint(
                    Code::BadInput,
                    format!("{input}: no such file"),
                    "pass a file path or an http(s):// URL",
                ));
            };
            if ui.json {
                rows.push(json!({"input": input, "sha256": digest.hex()}));
            } else {
                println!("{digest}  {input}");
            }
        }
        if ui.json {
            print_json(&rows);
        }
        return Ok(());
    }
    let start = match &cli.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir()?,
    };
    let ws = Workspace::find(&start)?;
    let root = ws.root.clone();
    let open_store = |flag: Option<String>, ws_url: &str| {
        store::open(flag.as_deref().unwrap_or(ws_url), &root).map_err(|e| bad_input(e.to_string()))
    };

    // Commands that need only the store.
    match cli.cmd {
        Cmd::Promote {
            package,
            build,
            channel,
            reason,
            expires,
            signing_key,
            allow_unsigned,
            store,
        } => {
            let build = parse_build_number(Some(build))?;
            let store = open_store(store, &ws.store_url)?;
            let key = publish::signing_key(signing_key.as_deref())?;
            let opts = publish::PromoteOptions {
                reason: reason.as_deref(),
                expires,
                key: key.as_ref(),
                allow_unsigned,
            };
            let p = publish::promote(store.as_ref(), &package, build, &channel, &opts)?;
            if ui.json {
                print_json(&p);
            } else if p.changed {
                let from = p
                    .previous
                    .map_or("nothing".into(), |b| format!("build {b}"));
                println!(
                    "{} {}: {from} -> build {} (sequence {})",
                    p.package, p.channel, p.build, p.sequence
                );
            } else {
                println!(
                    "{} {}: already at build {} (unchanged)",
                    p.package, p.channel, p.build
                );
            }
            return Ok(());
        }
        Cmd::Keys {
            root_key,
            grants,
            version,
            expires,
            store,
        } => {
            let store = open_store(store, &ws.store_url)?;
            let root = publish::secret_key(root_key.as_deref(), "KILN_ROOT_KEY", None, "root key")?
                .ok_or_else(|| {
                    with_hint(
                        Code::BadInput,
                        "kiln keys needs the root key",
                        "pass --root-key FILE (made by `kiln keygen --root`), or set KILN_ROOT_KEY",
                    )
                })?;
            let (v, changed) =
                publish::publish_keys(store.as_ref(), &root, &grants, version, expires)?;
            if ui.json {
                print_json(
                    &json!({"schema": 1, "command": "keys", "changed": changed, "version": v}),
                );
            } else {
                println!(
                    "keys record version {v} signed by root {}",
                    root.public().id()
                );
            }
            return Ok(());
        }
        Cmd::Releases {
            package,
            store,
            verify: true,
            trusted_keys,
            signing_key,
        } => {
            let store = open_store(store, &ws.store_url)?;
            let mut trusted = trusted_keys
                .iter()
                .map(|k| {
                    release::PublicKey::parse(k)
                        .map_err(|e| bad_input(format!("--trusted-key: {e}")))
                })
                .collect::<Result<Vec<_>>>()?;
            if trusted.is_empty() {
                match publish::signing_key(signing_key.as_deref())? {
                    Some(k) => trusted.push(k.public()),
                    None => {
                        return Err(with_hint(
                            Code::BadInput,
                            "--verify needs the keys whose signatures count",
                            "pass --trusted-key kiln-ed25519:… (the publisher's KEY.pub line), or --signing-key FILE",
                        ));
                    }
                }
            }
            let v = publish::verify(store.as_ref(), &package, &trusted)?;
            if ui.json {
                print_json(&serde_json::json!({
                    "schema": 1,
                    "command": "releases",
                    "verified": true,
                    "package": v.package,
                    "builds": v.builds,
                    "channels": v.channels.iter().map(|(c, n)| serde_json::json!({"channel": c, "moves": n})).collect::<Vec<_>>(),
                }));
            } else {
                let chans: Vec<String> = v
                    .channels
                    .iter()
                    .map(|(c, n)| format!("{c} ({n} move{})", if *n == 1 { "" } else { "s" }))
                    .collect();
                println!(
                    "{}: {} build(s) and channels [{}]: every signature and each history chain verify",
                    v.package,
                    v.builds,
                    chans.join(", ")
                );
            }
            return Ok(());
        }
        Cmd::Releases { package, store, .. } => {
            let store = open_store(store, &ws.store_url)?;
            let r = publish::releases(store.as_ref(), &package)?;
            if ui.json {
                print_json(&r);
            } else {
                println!(
                    "{:<8} {:<64} {:>12}  {:<20}  CHANNELS",
                    "BUILD", "SHA256", "SIZE", "BUILT_AT"
                );
                for row in &r.builds {
                    println!(
                        "{:<8} {:<64} {:>12}  {:<20}  {}",
                        row.build,
                        row.sha256,
                        row.size,
                        row.built_at,
                        row.channels.join(", ")
                    );
                }
                if !r.history.is_empty() {
                    println!("\nCHANNEL HISTORY");
                    for m in &r.history {
                        let from = m.from.map_or("-".to_string(), |b| b.to_string());
                        println!(
                            "{}  {} #{}: {from} -> {}  by {}{}",
                            m.at,
                            m.channel,
                            m.sequence,
                            m.to,
                            m.by,
                            m.reason
                                .as_deref()
                                .map(|r| format!(": {r}"))
                                .unwrap_or_default()
                        );
                    }
                }
            }
            return Ok(());
        }
        Cmd::Clean => {
            let out = root.join(outdir::OUT_DIR);
            // Not `exists()`: a dangling link must go too, and a link is removed, never
            // followed.
            if std::fs::symlink_metadata(&out).is_ok() {
                fs_err::remove_dir_all(&out)?;
            }
            ui.status("kiln: removed kiln-out/");
            return Ok(());
        }
        _ => {}
    }

    let remote = match cli
        .remote_cache
        .as_deref()
        .or(ws.cache.as_ref().map(|c| c.url.as_str()))
    {
        Some(url) => {
            let spec = ws.cache.as_ref();
            let mode = match cli.remote_cache_mode {
                Some(CacheModeArg::Read) => rules::CacheMode::Read,
                Some(CacheModeArg::ReadWrite) => rules::CacheMode::ReadWrite,
                None => spec
                    .and_then(|c| c.mode)
                    .unwrap_or(rules::CacheMode::ReadWrite),
            };
            // A read-only build never needs the writers' key: do not even load it.
            let signer = match mode {
                rules::CacheMode::Read => None,
                rules::CacheMode::ReadWrite => publish::secret_key(
                    None,
                    "KILN_CACHE_SIGNING_KEY",
                    spec.and_then(|c| c.signing_key.as_deref())
                        .map(|p| workspace::key_file(&root, p))
                        .transpose()?
                        .as_deref(),
                    "cache signing key",
                )?,
            };
            Some(remote::Remote::new(
                store::open(url, &root).map_err(|e| bad_input(format!("remote cache: {e}")))?,
                mode,
                signer,
                spec.map(|c| c.trusted_keys.clone()).unwrap_or_default(),
            ))
        }
        None => None,
    };
    let session = Session {
        remote,
        graph: Graph::load(ws)?,
        cache: Cache::open()?,
        ui,
        fetch: FetchOptions {
            offline: cli.offline,
            distdirs: cli.distdir,
        },
        jobs: match cli.jobs {
            Some(0) => return Err(bad_input("-j takes a number of at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        },
        sandbox: cli.sandbox,
    };
    match cli.cmd {
        Cmd::Build { patterns: p } => {
            let built = session.build(&patterns(p), false)?;
            print_bundles(ui, &built.bundles);
        }
        Cmd::Test { patterns: p } => {
            let labels = session.graph.expand(&patterns(p))?;
            let tests: Vec<Label> = labels
                .into_iter()
                .filter(|l| {
                    matches!(
                        session.graph.target(l).map(|(_, t)| &t.kind),
                        Some(rules::TargetKind::Test(_))
                    )
                })
                .collect();
            if tests.is_empty() {
                return Err(bad_input("the patterns match no test targets"));
            }
            let outcome = session.run(&tests, true)?;
            return report_tests(ui, &outcome.tests);
        }
        Cmd::Fetch { patterns: p } => {
            let labels = session.graph.expand(&patterns(p))?;
            let (_, archives) = session.graph.closure(&labels);
            let trees = session.trees(&archives)?;
            for (name, t) in &trees {
                ui.status(format!("@{name}: {} files", t.files.len()));
            }
        }
        Cmd::Query { query } => {
            let (raw, reverse) = match &query {
                Query::Deps { label } => (label, false),
                Query::Rdeps { label } => (label, true),
            };
            let label = rules::parse_label(raw, "").map_err(bad_input)?;
            if let Label::Target { .. } = label {
                session.graph.expand(std::slice::from_ref(raw))?;
            }
            let found: Vec<String> = if reverse {
                label_list(session.graph.rdeps(&label))
            } else {
                let (closure, _) = session.graph.closure(std::slice::from_ref(&label));
                label_list(closure.into_iter().filter(|l| *l != label))
            };
            if ui.json {
                print_json(&found);
            } else {
                for l in found {
                    println!("{l}");
                }
            }
        }
        Cmd::Publish {
            patterns: p,
            build_number,
            store,
            channel,
            signing_key,
        } => {
            let build = parse_build_number(build_number)?;
            let store = open_store(store, &session.graph.ws.store_url)?;
            let key = publish::signing_key(signing_key.as_deref())?;
            if key.is_none() {
                ui.status("kiln: publishing unsigned (no --signing-key or KILN_SIGNING_KEY); hosts accept it only with allow_unsigned");
            }
            let built = session.build(&patterns(p), false)?.bundles;
            if built.is_empty() {
                return Err(bad_input("the patterns name no bundle to publish"));
            }
            let source = release::Source {
                commit: git_commit(&root),
                workspace: session.graph.ws.name.clone(),
            };
            let published = publish::publish(
                store.as_ref(),
                &session.cache,
                ui,
                key.as_ref(),
                &built,
                build,
                source,
            )?;
            let mut promoted = Vec::new();
            if let Some(c) = &channel {
                let reason = format!("kiln publish --build-number {build} --channel {c}");
                let opts = publish::PromoteOptions {
                    reason: Some(&reason),
                    expires: None,
                    key: key.as_ref(),
                    allow_unsigned: false,
                };
                for p in &published {
                    promoted.push(publish::promote(
                        store.as_ref(),
                        &p.package,
                        build,
                        c,
                        &opts,
                    )?);
                }
            }
            if ui.json {
                print_json(
                    &json!({"store": store.url(), "published": published, "promoted": promoted}),
                );
            } else {
                for p in &published {
                    let what = if p.changed { "published" } else { "unchanged" };
                    println!("{what} {} build {} {}", p.package, p.build, p.sha256);
                }
                for p in &promoted {
                    println!(
                        "{} {} -> build {} (sequence {})",
                        p.package, p.channel, p.build, p.sequence
                    );
                }
                ui.status(format!("kiln: store {}", store.url()));
            }
        }
        Cmd::Promote { .. }
        | Cmd::Releases { .. }
        | Cmd::Clean
        | Cmd::Keygen { .. }
        | Cmd::Keys { .. }
        | Cmd::Sha256 { .. } => {
            unreachable!("handled above")
        }
    }
    Ok(())
}

fn report_tests(ui: Ui, tests: &[exec::TestResult]) -> Result<()> {
    use exec::TestStatus;
    let failed = tests
        .iter()
        .filter(|t| t.status != TestStatus::Passed)
        .count();
    if ui.json {
        let rows: Vec<_> = tests
            .iter()
            .map(|t| {
                json!({
                    "label": t.label.to_string(),
                    "status": match t.status {
                        TestStatus::Passed => "passed",
                        TestStatus::Failed => "failed",
                        TestStatus::TimedOut => "timed_out",
                    },
                    "cached": t.cached,
                    "seconds": t.elapsed.as_secs_f64(),
                    "log": t.log,
                })
            })
            .collect();
        print_json(&rows);
    } else {
        for t in tests {
            match (t.status, t.cached) {
                (TestStatus::Passed, true) => println!("{}  (cached) PASSED", t.label),
                (TestStatus::Passed, false) => {
                    println!("{}  PASSED in {}", t.label, engine::secs(t.elapsed))
                }
                (status, _) => {
                    let what = if status == TestStatus::TimedOut {
                        "TIMEOUT"
                    } else {
                        "FAILED"
                    };
                    println!(
                        "{}  {what} in {} (log: {})",
                        t.label,
                        engine::secs(t.elapsed),
                        t.log.display()
                    );
                    print!("{}", t.tail);
                }
            }
        }
        ui.status(format!(
            "kiln: {} test(s): {} passed, {failed} failed",
            tests.len(),
            tests.len() - failed
        ));
    }
    if failed > 0 {
        return Err(error::failed(format!("{failed} test(s) failed")));
    }
    Ok(())
}

fn print_bundles(ui: Ui, built: &[bundle::Built]) {
    if ui.json {
        let rows: Vec<_> = built
            .iter()
            .map(|b| {
                json!({
                    "label": b.label.to_string(),
                    "path": b.out,
                    "sha256": b.sha256,
                    "size": b.size,
                    "changed": b.status != bundle::Status::UpToDate,
                })
            })
            .collect();
        print_json(&rows);
        return;
    }
    for b in built {
        println!("{}  {}  {}", b.label, b.out.display(), b.sha256);
    }
}

/// The commit the workspace is at, when it is a git checkout.
fn git_commit(root: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}
