//! A short query of another program (what Python is this?) that can neither hang
//! kiln nor flood it: its output is bounded, and it is killed at a deadline.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What `cmd` prints on stdout (at most `limit` bytes) if it exits successfully, or
/// None when it fails, or has not finished (its output included) within `timeout`, in
/// which case it is killed.
pub fn query(cmd: &mut Command, limit: u64, timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
    let deadline = Instant::now() + timeout;
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let mut stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stdout).take(limit).read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    loop {
        if let Some(status) = child.try_wait()? {
            let left = deadline.saturating_duration_since(Instant::now());
            return Ok(rx.recv_timeout(left).ok().filter(|_| status.success()));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_bounded_in_time_and_size() {
        let t = Instant::now();
        let hung = query(
            Command::new("sh").args(["-c", "sleep 30"]),
            100,
            Duration::from_millis(200),
        )
        .unwrap();
        assert_eq!(hung, None);
        assert!(t.elapsed() < Duration::from_secs(5));
        let big = query(
            Command::new("sh").args(["-c", "head -c 100000 /dev/zero"]),
            100,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(
            big, None,
            "it could not finish writing: killed at the deadline"
        );
        let ok = query(
            Command::new("sh").args(["-c", "echo hi"]),
            100,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(ok.as_deref(), Some(&b"hi\n"[..]));
        let failed = query(
            Command::new("sh").args(["-c", "echo hi; exit 3"]),
            100,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(failed, None);
    }
}
