//! The one way a transient failure is retried (a 5xx, a dropped connection, a body cut
//! off): [`ATTEMPTS`] attempts, 250 ms and then 500 ms apart.

use std::time::Duration;

pub const ATTEMPTS: u32 = 3;

/// What one attempt came to.
pub enum Attempt<T, E> {
    Done(T),
    /// Not worth another attempt.
    Fatal(E),
    /// Worth another attempt: why this one failed.
    Transient(String),
}

/// Why [`retry`] gave up.
pub enum GaveUp<E> {
    Fatal(E),
    /// Every attempt failed transiently: the last reason, with the count.
    Exhausted(String),
}

/// Call `once` until it is done or fails for good, at most [`ATTEMPTS`] times.
pub fn retry<T, E>(mut once: impl FnMut() -> Attempt<T, E>) -> Result<T, GaveUp<E>> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250 << (attempt - 1)));
        }
        match once() {
            Attempt::Done(t) => return Ok(t),
            Attempt::Fatal(e) => return Err(GaveUp::Fatal(e)),
            Attempt::Transient(why) => last = why,
        }
    }
    Err(GaveUp::Exhausted(format!(
        "{last} (after {ATTEMPTS} attempts)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_done_fatal_or_the_last_attempt() {
        let mut n = 0;
        let r: Result<u32, GaveUp<()>> = retry(|| {
            n += 1;
            if n < 2 {
                Attempt::Transient("x".into())
            } else {
                Attempt::Done(n)
            }
        });
        assert!(matches!(r, Ok(2)));
        let r: Result<(), GaveUp<&str>> = retry(|| Attempt::Fatal("no"));
        assert!(matches!(r, Err(GaveUp::Fatal("no"))));
        let mut n = 0;
        let r: Result<(), GaveUp<()>> = retry(|| {
            n += 1;
            Attempt::Transient(format!("try {n}"))
        });
        assert!(matches!(r, Err(GaveUp::Exhausted(ref s)) if s == "try 3 (after 3 attempts)"));
    }
}
