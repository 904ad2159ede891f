//! How kiln talks to people: status lines on stderr (quiet with -q), progress bars only
//! on a terminal, machine output on stdout.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: u8,
    progress: bool,
}

impl Ui {
    pub fn new(flags: &plumbing::flags::GlobalFlags) -> Ui {
        Ui {
            quiet: flags.quiet,
            verbose: flags.verbose,
            // On stderr, so a bar may run beside --json.
            progress: !flags.no_progress && !flags.quiet && std::io::stderr().is_terminal(),
        }
    }

    /// A status line for people (stderr), unless -q.
    pub fn status(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Detail shown with -v.
    pub fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 && !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// The live `[n/total] kind label` line on a terminal; hidden otherwise.
    pub fn status_bar(&self, total: usize) -> ProgressBar {
        if !self.progress || total == 0 {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}")
                .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// A line about finished work: above the live bar on a terminal, plain otherwise.
    pub fn progress_line(&self, bar: &ProgressBar, line: String) {
        if self.quiet {
            return;
        }
        if self.progress {
            bar.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// A byte-counting bar on a terminal; hidden otherwise.
    pub fn bytes_bar(&self, what: &str, total: Option<u64>) -> ProgressBar {
        plumbing::progress::bytes_bar(self.progress, what, total)
    }
}
