//! Errors classified for the exit code: 1 the work failed (a checksum, a manifest, a
//! health check), 2 bad input (usage, config, unknown build or channel), 3 the
//! environment failed (store unreachable, disk full, service manager missing).

use std::fmt;

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Failed = 1,
    BadInput = 2,
    Env = 3,
}

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

pub fn err(code: Code, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        code,
        message: message.into(),
        hint: None,
    })
}

pub fn hinted(code: Code, message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        code,
        message: message.into(),
        hint: Some(hint.into()),
    })
}

/// Store errors: unreachable stores and I/O are the environment, the rest bad input.
pub fn store(e: store::StoreError) -> anyhow::Error {
    use store::StoreError as S;
    let code = match e {
        S::Io { .. } | S::Unreachable { .. } => Code::Env,
        S::BadUrl { .. } | S::BadKey(_) | S::Unsupported { .. } => Code::BadInput,
        S::TooLarge { .. } => Code::Failed,
    };
    err(code, e.to_string())
}

/// Print `error:`, `caused by:` and `hint:` lines; return the exit code.
pub fn report(e: &anyhow::Error) -> i32 {
    let mut code = None;
    let mut hint = None;
    for c in e.chain() {
        if let Some(k) = c.downcast_ref::<Classified>() {
            code = Some(k.code);
            hint = k.hint.clone();
            break;
        }
    }
    let code = code.unwrap_or_else(|| {
        if e.chain().any(|c| c.is::<std::io::Error>()) {
            Code::Env
        } else {
            Code::Failed
        }
    });
    let mut chain = e.chain();
    if let Some(top) = chain.next() {
        eprintln!("error: {}", release::redact_secrets(&top.to_string()));
    }
    for c in chain {
        eprintln!("  caused by: {}", release::redact_secrets(&c.to_string()));
    }
    if let Some(h) = hint {
        eprintln!("hint: {}", release::redact_secrets(&h));
    }
    code as i32
}
