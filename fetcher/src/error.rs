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

/// What went wrong, as it is shown: the exit code, the message lines (the error and
/// what caused it) and the hint, with any secret key redacted.
pub fn describe(e: &anyhow::Error) -> (i32, Vec<String>, Option<String>) {
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
    let lines = e
        .chain()
        .map(|c| release::redact_secrets(&c.to_string()))
        .collect();
    (
        code as i32,
        lines,
        hint.map(|h| release::redact_secrets(&h)),
    )
}

/// Print `error:`, `caused by:` and `hint:` lines on stderr (and with `json`, the one
/// JSON object of a failed `command` on stdout); return the exit code.
pub fn report(e: &anyhow::Error, json: Option<&str>) -> i32 {
    let (code, lines, hint) = describe(e);
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            eprintln!("error: {l}");
        } else {
            eprintln!("  caused by: {l}");
        }
    }
    if let Some(h) = &hint {
        eprintln!("hint: {h}");
    }
    if let Some(command) = json {
        print_failure(command, &lines.join(": "), hint.as_deref(), code);
    }
    code
}

/// The JSON object of a failed run: config management reads this, not stderr.
pub fn print_failure(command: &str, error: &str, hint: Option<&str>, exit_code: i32) {
    let v = serde_json::json!({
        "schema": 1,
        "command": command,
        "changed": false,
        "failed": true,
        "error": error,
        "hint": hint,
        "exit_code": exit_code,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&v).expect("serializable")
    );
}
