//! Progress as the libraries report it; only the binaries draw it (a bar on a
//! terminal, nothing otherwise).

/// What long work says as it goes. Every method has a silent default, so `()` is the
/// reporter of a run nobody watches.
pub trait Reporter: Sync {
    /// `done` of `total` bytes of `what` moved (a download, an upload).
    fn bytes(&self, _what: &str, _done: u64, _total: Option<u64>) {}
}

impl Reporter for () {}

/// A byte-counting bar on stderr when `on` (a terminal, and not -q, --json or
/// --no-progress: see `GlobalFlags::progress`); nothing otherwise.
pub struct Bar {
    bar: indicatif::ProgressBar,
}

/// The one byte-counting bar both binaries draw: `what [=====>   ] 12 MiB/40 MiB 8 MiB/s`
/// (a spinner when the total is unknown); hidden unless `on`.
pub fn bytes_bar(on: bool, what: &str, total: Option<u64>) -> indicatif::ProgressBar {
    if !on {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

impl Bar {
    pub fn new(on: bool) -> Bar {
        Bar {
            bar: bytes_bar(on, "", Some(0)),
        }
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
}
