//! Errors classified for the exit code, with an optional hint. Exit codes: 1 the work
//! failed, 2 bad input, 3 the environment failed (see docs/cli.md).

use std::fmt;
use std::path::Path;

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Failed = 1,
    BadInput = 2,
    Env = 3,
}

/// The root cause of an error, carrying its exit code and a hint.
#[derive(Debug)]
pub struct Classified {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

fn make(code: Code, message: impl Into<String>, hint: Option<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        code,
        message: message.into(),
        hint,
    })
}

pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    make(Code::BadInput, message, None)
}

pub fn failed(message: impl Into<String>) -> anyhow::Error {
    make(Code::Failed, message, None)
}

pub fn env_failed(message: impl Into<String>) -> anyhow::Error {
    make(Code::Env, message, None)
}

pub fn with_hint(code: Code, message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    make(code, message, Some(hint.into()))
}

/// An error at a place in a file: `path:line:col: message`.
pub fn at(path: &Path, text: &str, diag: &rules::Diagnostic) -> anyhow::Error {
    let place = match &diag.span {
        Some(span) => {
            let (line, col) = rules::line_col(text, span.start);
            format!("{}:{line}:{col}", path.display())
        }
        None => path.display().to_string(),
    };
    make(
        Code::BadInput,
        format!("{place}: {}", diag.message),
        diag.hint.clone(),
    )
}

/// The exit code and hint of an error: from its classified cause, else 3 for I/O
/// failures and 1 for anything else.
pub fn classify(err: &anyhow::Error) -> (Code, Option<&str>) {
    for cause in err.chain() {
        if let Some(c) = cause.downcast_ref::<Classified>() {
            return (c.code, c.hint.as_deref());
        }
    }
    if err.chain().any(|c| c.is::<std::io::Error>()) {
        return (Code::Env, None);
    }
    (Code::Failed, None)
}

/// Print `error:`, `caused by:` and `hint:` lines to stderr and return the exit code.
pub fn report(err: &anyhow::Error) -> i32 {
    let (code, hint) = classify(err);
    let mut chain = err.chain();
    if let Some(top) = chain.next() {
        eprintln!("error: {}", release::redact_secrets(&top.to_string()));
    }
    for cause in chain {
        eprintln!(
            "  caused by: {}",
            release::redact_secrets(&cause.to_string())
        );
    }
    if let Some(h) = hint {
        eprintln!("hint: {}", release::redact_secrets(h));
    }
    code as i32
}
