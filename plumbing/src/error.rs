//! Errors classified for the exit code, with a hint: 0 success, 1 the work failed (a
//! build, a test, a checksum, a signature, a health check), 2 bad input (usage, a
//! malformed file, an unknown label, build or channel), 3 the environment failed
//! (network, store unreachable, credentials, disk full). Both binaries report every
//! error through [`show`], so the lines, the redaction of secrets and the colours are
//! the same everywhere.

use std::fmt;
use std::path::Path;

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Failed = 1,
    BadInput = 2,
    Env = 3,
    /// kiln-fetch only: a new build failed its health check, and the build it rolled
    /// back to fails its own check too (the host runs no healthy build).
    Unhealthy = 4,
}

impl Code {
    fn from_exit(code: i32) -> Code {
        match code {
            2 => Code::BadInput,
            3 => Code::Env,
            4 => Code::Unhealthy,
            _ => Code::Failed,
        }
    }
}

/// The root cause of an error: its exit code, a hint, and whether the run had already
/// changed something when it failed (what `--json` reports as `changed`).
#[derive(Debug)]
pub struct Classified {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
    pub changed: bool,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

fn make(code: Code, message: String, hint: Option<String>, changed: bool) -> anyhow::Error {
    anyhow::Error::new(Classified {
        code,
        message,
        hint,
        changed,
    })
}

pub fn err(code: Code, message: impl Into<String>) -> anyhow::Error {
    make(code, message.into(), None, false)
}

pub fn hinted(code: Code, message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    make(code, message.into(), Some(hint.into()), false)
}

pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    err(Code::BadInput, message)
}

pub fn failed(message: impl Into<String>) -> anyhow::Error {
    err(Code::Failed, message)
}

pub fn env_failed(message: impl Into<String>) -> anyhow::Error {
    err(Code::Env, message)
}

/// A failure after the run had already changed something (restarted a service).
pub fn changed(code: Code, message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    make(code, message.into(), Some(hint.into()), true)
}

/// Mark `e` as a failure after the run had changed something.
pub fn mark_changed(mut e: anyhow::Error) -> anyhow::Error {
    if let Some(k) = e.downcast_mut::<Classified>() {
        k.changed = true;
        return e;
    }
    let d = describe(&e);
    make(Code::from_exit(d.code), d.lines.join(": "), d.hint, true)
}

/// Whether the run changed something before it failed with `e`.
pub fn changed_before(e: &anyhow::Error) -> bool {
    e.chain()
        .find_map(|c| c.downcast_ref::<Classified>())
        .is_some_and(|k| k.changed)
}

/// 1-based line and column (in characters) of a byte offset into `text`: the one way
/// both binaries place an error in a file.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    // An error at the very end (an unclosed array, say) belongs to the last line.
    if offset == text.len() && text.ends_with('\n') {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, tail)| tail)
        .chars()
        .count()
        + 1;
    (line, col)
}

/// `path:line:col` of a byte offset (just `path` without one).
pub fn place(path: &Path, text: &str, offset: Option<usize>) -> String {
    match offset {
        Some(o) => {
            let (line, col) = line_col(text, o);
            format!("{}:{line}:{col}", path.display())
        }
        None => path.display().to_string(),
    }
}

/// What went wrong, as it is shown: the exit code, the message lines (the error and
/// what caused it) and the hint, with any secret key redacted.
pub struct Described {
    pub code: i32,
    pub lines: Vec<String>,
    pub hint: Option<String>,
}

/// The exit code and hint of an error: from its classified cause, else 3 for I/O
/// failures and 1 for anything else.
pub fn describe(e: &anyhow::Error) -> Described {
    let found = e.chain().find_map(|c| c.downcast_ref::<Classified>());
    let code = match found {
        Some(k) => k.code,
        None if e.chain().any(|c| c.is::<std::io::Error>()) => Code::Env,
        None => Code::Failed,
    };
    Described {
        code: code as i32,
        lines: e
            .chain()
            .map(|c| release::redact_secrets(&c.to_string()))
            .collect(),
        hint: found
            .and_then(|k| k.hint.as_deref())
            .map(release::redact_secrets),
    }
}

/// Print `error:`, `caused by:` and `hint:` lines on stderr; return the exit code.
pub fn show(e: &anyhow::Error) -> i32 {
    let d = describe(e);
    for (i, l) in d.lines.iter().enumerate() {
        if i == 0 {
            crate::style::error(l);
        } else {
            eprintln!("  caused by: {l}");
        }
    }
    if let Some(h) = &d.hint {
        crate::style::hint(h);
    }
    d.code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let t = "a = 1\nbé = [\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        // After the two-byte é: column 3, not 4.
        assert_eq!(line_col(t, 9), (2, 3));
        assert_eq!(line_col(t, t.len()), (2, 7));
        // Inside a character: its start.
        assert_eq!(line_col(t, 8), (2, 2));
    }

    #[test]
    fn classification() {
        let io = anyhow::Error::new(std::io::Error::other("x")).context("reading y");
        assert_eq!(describe(&io).code, 3);
        assert_eq!(describe(&anyhow::anyhow!("x")).code, 1);
        let e = hinted(Code::BadInput, "bad", "fix it");
        assert_eq!(describe(&e).code, 2);
        assert_eq!(describe(&e).hint.as_deref(), Some("fix it"));
        assert!(!changed_before(&e));
        assert!(changed_before(&mark_changed(e)));
        let wrapped = mark_changed(anyhow::Error::new(std::io::Error::other("disk")));
        assert_eq!(describe(&wrapped).code, 3);
        assert!(changed_before(&wrapped));
    }
}
