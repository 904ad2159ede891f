//! Fault injection for the crash-safety tests, in builds with the `fault-injection`
//! feature only (ci/test turns it on; release builds have none of it): with
//! `KILN_FETCH_PAUSE_AT=<step>`, kiln-fetch stops at that step, says so on stderr, and
//! waits (at most a minute) to be killed with SIGKILL by the test. Steps: download,
//! unpack, before-switch, after-switch.

#[cfg(feature = "fault-injection")]
pub fn pause(step: &str) {
    if std::env::var("KILN_FETCH_PAUSE_AT").is_ok_and(|s| s == step) {
        eprintln!("kiln-fetch: paused at {step}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Without the feature: nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn pause(_step: &str) {}
