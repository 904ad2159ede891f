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
    /// The run changed the host before it failed (a service was restarted): what
    /// `--json` reports as `changed`.
    pub changed: bool,
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
        changed: false,
    })
}

pub fn hinted(code: Code, message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        code,
        message: message.into(),
        hint: Some(hint.into()),
        changed: false,
    })
}

/// A failure after the run had already changed the host (restarted a service).
pub fn changed(code: Code, message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        code,
        message: message.into(),
        hint: Some(hint.into()),
        changed: true,
    })
}

/// Mark `e` as a failure after the run had changed the host.
pub fn mark_changed(mut e: anyhow::Error) -> anyhow::Error {
    if let Some(k) = e.downcast_mut::<Classified>() {
        k.changed = true;
        return e;
    }
    let (code, lines, hint) = describe(&e);
    anyhow::Error::new(Classified {
        code: match code {
            2 => Code::BadInput,
            3 => Code::Env,
            _ => Code::Failed,
        },
        message: lines.join(": "),
        hint,
        changed: true,
    })
}

/// Whether the run changed the host before it failed with `e`.
pub fn changed_before(e: &anyhow::Error) -> bool {
    e.chain()
        .find_map(|c| c.downcast_ref::<Classified>())
        .is_some_and(|k| k.changed)
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

/// Print `error:`, `caused by:` and `hint:` lines on stderr; return the exit code.
pub fn show(e: &anyhow::Error) -> i32 {
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
    code
}

/// Show `e` on stderr (and with `json`, print the one JSON object of a failed
/// `command`, for its package if it has one, on stdout); return the exit code.
pub fn report(e: &anyhow::Error, json: Option<(&str, Option<&str>)>) -> i32 {
    let code = show(e);
    if let Some((command, package)) = json {
        let mut fields = serde_json::Map::new();
        if let Some(p) = package {
            fields.insert("package".into(), p.into());
        }
        print_object(object(command, false, fields, Some(e)));
    }
    code
}

/// The one JSON object of a run (docs/json.md): `schema`, `command`, `changed` and
/// `failed` first, then the command's own fields; a failure adds `error`, `hint` and
/// `exit_code`. Config management reads this, not stderr.
pub fn object(
    command: &str,
    changed: bool,
    fields: serde_json::Map<String, serde_json::Value>,
    failure: Option<&anyhow::Error>,
) -> serde_json::Value {
    let mut v = serde_json::Map::new();
    v.insert("schema".into(), 1.into());
    v.insert("command".into(), command.into());
    let changed = changed || failure.is_some_and(changed_before);
    v.insert("changed".into(), changed.into());
    v.insert("failed".into(), failure.is_some().into());
    v.extend(fields);
    if let Some(e) = failure {
        let (code, lines, hint) = describe(e);
        v.insert("error".into(), lines.join(": ").into());
        v.insert("hint".into(), hint.into());
        v.insert("exit_code".into(), code.into());
    }
    v.into()
}

/// A usage error's object, before any command was understood.
pub fn print_usage_failure(error: &str) {
    let mut v = object("", false, serde_json::Map::new(), None);
    v["failed"] = true.into();
    v["error"] = error.into();
    v["hint"] = "see kiln-fetch --help".into();
    v["exit_code"] = 2.into();
    print_object(v);
}

pub fn print_object(v: serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(&v).expect("serializable")
    );
}

/// The fields of a serializable value, to go into `object`.
pub fn fields(v: &impl serde::Serialize) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(v).expect("serializable") {
        serde_json::Value::Object(m) => m,
        other => {
            let mut m = serde_json::Map::new();
            m.insert("value".into(), other);
            m
        }
    }
}
