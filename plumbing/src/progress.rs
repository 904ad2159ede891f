//! Progress as the libraries report it; only the binaries draw it (a bar on a
//! terminal, nothing otherwise).

/// What long work says as it goes. Every method has a silent default, so `()` is the
/// reporter of a run nobody watches.
pub trait Reporter: Sync {
    /// `done` of `total` bytes of `what` moved (a download, an upload).
    fn bytes(&self, _what: &str, _done: u64, _total: Option<u64>) {}
    /// A line of detail, shown with `-v`.
    fn detail(&self, _line: &str) {}
}

impl Reporter for () {}

/// A byte-counting bar on stderr when `on` (a terminal, and not -q, --json or
/// --no-progress: see `GlobalFlags::progress`); nothing otherwise.
pub struct Bar {
    bar: indicatif::ProgressBar,
    verbose: bool,
}

impl Bar {
    pub fn new(on: bool, verbose: bool) -> Bar {
        let bar = if on {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        Bar { bar, verbose }
    }

    /// Take the bar off the screen.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for Bar {
    fn bytes(&self, what: &str, done: u64, total: Option<u64>) {
        if self.bar.message() != what {
            self.bar.set_message(what.to_string());
        }
        if let Some(t) = total {
            self.bar.set_length(t);
        }
        self.bar.set_position(done);
    }

    fn detail(&self, line: &str) {
        if self.verbose {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }
}
