//! The flags every command of both binaries takes, as one flattened clap struct.

/// `-q`, `-v`, `--json`, `--no-progress`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GlobalFlags {
    /// Print only errors and results.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Say more: which mirror, cache hits and misses (repeatable).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print exactly one JSON object on stdout, failures included (docs/json.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// Never draw progress bars (they are drawn only on a terminal anyway).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

impl GlobalFlags {
    /// Progress bars: on a terminal, not with -q, --json or --no-progress.
    pub fn progress(&self) -> bool {
        use std::io::IsTerminal;
        !self.no_progress && !self.quiet && !self.json && std::io::stderr().is_terminal()
    }
}
