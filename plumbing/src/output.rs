//! The one output value of a command: it renders the human text and the JSON object,
//! so `--json` is the same everywhere (docs/json.md): exactly one object on stdout,
//! failures included, with `schema`, `command`, `changed` and `failed` first, then the
//! command's own fields, and on failure `error`, `hint` and `exit_code`.

use std::process::ExitCode;

use serde_json::{Map, Value};

use crate::flags::GlobalFlags;

/// The version of every JSON object's layout.
pub const SCHEMA: u64 = 1;

/// Where a command's human text goes: results on stdout (always), notes on stdout
/// unless `-q`, status lines on stderr unless `-q`. With `--json` stdout holds only
/// the object, and the status lines still go to stderr for people.
pub struct Human {
    quiet: bool,
    json: bool,
}

impl Human {
    /// A result line (a label and its sha256, a table row): printed even with `-q`.
    pub fn result(&mut self, line: impl AsRef<str>) {
        if !self.json {
            println!("{}", line.as_ref());
        }
    }

    /// A sentence about what happened, on stdout; silent with `-q`.
    pub fn say(&mut self, line: impl AsRef<str>) {
        if !self.quiet && !self.json {
            println!("{}", line.as_ref());
        }
    }

    /// A status line on stderr; silent with `-q`.
    pub fn status(&mut self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Raw text on stdout (a test's log tail).
    pub fn raw(&mut self, text: &str) {
        if !self.json {
            print!("{text}");
        }
    }
}

/// What a command returns: its JSON fields (`Serialize`), its human text, whether it
/// changed anything, and the failures it found while still producing output (tests
/// that failed, files that drifted, packages whose state cannot be read).
pub trait Output: serde::Serialize {
    /// Whether the run changed anything (`changed` in the JSON object).
    fn changed(&self) -> bool {
        false
    }

    /// The human text.
    fn human(&self, out: &mut Human);

    /// Failures found along the way: every one is shown, the first decides the exit
    /// code and is the JSON object's `error`.
    fn failures(&self) -> Vec<&anyhow::Error> {
        Vec::new()
    }
}

/// The one JSON object of a run.
pub fn object(
    command: &str,
    changed: bool,
    fields: Map<String, Value>,
    failure: Option<&anyhow::Error>,
) -> Value {
    let mut v = Map::new();
    v.insert("schema".into(), SCHEMA.into());
    v.insert("command".into(), command.into());
    let changed = changed || failure.is_some_and(crate::error::changed_before);
    v.insert("changed".into(), changed.into());
    v.insert("failed".into(), failure.is_some().into());
    for (k, val) in fields {
        // The envelope's own keys are the envelope's.
        if !matches!(k.as_str(), "schema" | "command" | "changed" | "failed") {
            v.insert(k, val);
        }
    }
    if let Some(e) = failure {
        let d = crate::error::describe(e);
        v.insert("error".into(), d.lines.join(": ").into());
        v.insert("hint".into(), d.hint.into());
        v.insert("exit_code".into(), d.code.into());
    }
    v.into()
}

pub fn print_object(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("serializable"));
}

/// The fields of a serializable value.
pub fn fields(v: &impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(v).expect("serializable") {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            m
        }
    }
}

/// Print a command's outcome the one way (human text, or one JSON object) and return
/// the exit code. `context` holds the fields a failed run still reports (its package).
pub fn finish<T: Output>(
    flags: &GlobalFlags,
    command: &str,
    context: Map<String, Value>,
    outcome: crate::Result<T>,
) -> ExitCode {
    match outcome {
        Ok(out) => {
            let failures = out.failures();
            out.human(&mut Human {
                quiet: flags.quiet,
                json: flags.json,
            });
            let code = failures
                .iter()
                .map(|e| crate::error::show(e))
                .next()
                .unwrap_or(0);
            if flags.json {
                let mut f = context;
                f.extend(fields(&out));
                print_object(&object(
                    command,
                    out.changed(),
                    f,
                    failures.first().copied(),
                ));
            }
            ExitCode::from(code as u8)
        }
        Err(e) => fail(flags.json, command, context, &e),
    }
}

/// Report a failure that produced no output: the error lines on stderr and, with
/// `--json`, the one object on stdout.
pub fn fail(json: bool, command: &str, context: Map<String, Value>, e: &anyhow::Error) -> ExitCode {
    let code = crate::error::show(e);
    if json {
        print_object(&object(command, false, context, Some(e)));
    }
    ExitCode::from(code as u8)
}

/// `version`'s output (and `-V`'s).
#[derive(serde::Serialize)]
pub struct Version {
    #[serde(skip)]
    pub program: &'static str,
    pub version: &'static str,
}

impl Output for Version {
    fn human(&self, out: &mut Human) {
        out.result(format!("{} {}", self.program, self.version));
    }
}

/// A usage error (clap's, before any command was understood): exit 2 and, with
/// `--json`, one object naming the error.
pub fn usage_failure(json: bool, program: &str, error: &str) -> ExitCode {
    crate::style::error(error);
    crate::style::hint(&format!("see {program} --help"));
    if json {
        print_object(&usage_object(program, error));
    }
    ExitCode::from(2)
}

/// The object of a usage error: no command was understood.
fn usage_object(program: &str, error: &str) -> Value {
    let mut v = object("", false, Map::new(), None);
    v["failed"] = true.into();
    v["error"] = error.into();
    v["hint"] = format!("see {program} --help").into();
    v["exit_code"] = 2.into();
    v
}

/// Parse the command line: on a usage error, exit 2 (one JSON object with `--json`);
/// with `--json`, `--help` and `--version` print one object too.
pub fn parse<C: clap::Parser>(program: &str) -> Result<C, ExitCode> {
    // Scanned by hand: clap has not parsed yet when its own error is printed.
    let json = std::env::args()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json" || a.starts_with("--json="));
    match C::try_parse() {
        Ok(c) => Ok(c),
        Err(e) if json && e.use_stderr() => {
            // The error line and the lines indented under it (the arguments missing),
            // without clap's usage text.
            let msg = e.to_string();
            let mut lines = msg.lines();
            let first = lines.next().unwrap_or("bad usage");
            let mut error = first.strip_prefix("error: ").unwrap_or(first).to_string();
            for more in lines.take_while(|l| l.starts_with(' ')) {
                error.push(' ');
                error.push_str(more.trim());
            }
            // clap's full text (with its usage line) for people, then the object.
            let _ = e.print();
            print_object(&usage_object(program, &error));
            Err(ExitCode::from(2))
        }
        Err(e) if json => {
            let mut f = Map::new();
            f.insert("help".into(), e.render().to_string().into());
            print_object(&object("help", false, f, None));
            Err(ExitCode::SUCCESS)
        }
        Err(e) => e.exit(),
    }
}
