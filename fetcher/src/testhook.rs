//! Fault injection for the crash-safety tests: with `KILN_FETCH_PAUSE_AT=<step>`,
//! kiln-fetch stops at that step, says so on stderr, and waits (at most a minute) to be
//! killed with SIGKILL by the test. Steps: download, unpack, before-switch,
//! after-switch. Without the variable this does nothing.

pub fn pause(step: &str) {
    if std::env::var("KILN_FETCH_PAUSE_AT").is_ok_and(|s| s == step) {
        eprintln!("kiln-fetch: paused at {step}");
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}
