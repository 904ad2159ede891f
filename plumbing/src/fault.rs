//! Fault-injection points for the crash tests, compiled only with the
//! `fault-injection` feature (ci/test turns it on; a release build has none of it, and
//! ci/test checks with `strings` that the variable names are not in such a binary).
//!
//! - `pause(step)`: with `KILN_FETCH_PAUSE_AT=<step>`, say so on stderr and wait (at
//!   most a minute) to be killed by the test. Steps: download, unpack, before-switch,
//!   after-switch (install), remove-current, remove-builds (remove).
//! - `stop(point)`: with `KILN_TEST_STOP_AT=<point>`, stop the process with SIGSTOP the
//!   first time the point is reached, so a test can change the world (stop the server,
//!   win a race) before it sends SIGCONT. Points: `s3-part` (after the first part of a
//!   multipart upload), `promote-read` (after a promote read the channel pointer).

#[cfg(feature = "fault-injection")]
pub fn pause(step: &str) {
    if std::env::var("KILN_FETCH_PAUSE_AT").is_ok_and(|s| s == step) {
        eprintln!("kiln-fetch: paused at {step}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[cfg(feature = "fault-injection")]
pub fn stop(point: &str) {
    static ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if std::env::var("KILN_TEST_STOP_AT").is_ok_and(|p| p == point)
        && !ONCE.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::STOP);
    }
}

/// Without the feature: nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn pause(_step: &str) {}

/// Without the feature: nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn stop(_point: &str) {}
