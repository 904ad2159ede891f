//! Coloured `error:`, `warning:` and `hint:` prefixes on stderr when it is a terminal;
//! plain text when it is piped, when `NO_COLOR` is set (https://no-color.org) or when
//! `TERM=dumb`.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// Whether stderr gets colour.
pub fn colour() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            && std::io::stderr().is_terminal()
    })
}

fn line(prefix: &str, ansi: &str, msg: &str) {
    if colour() {
        eprintln!("\x1b[{ansi}m{prefix}:\x1b[0m {msg}");
    } else {
        eprintln!("{prefix}: {msg}");
    }
}

/// `error: MSG` (bold red on a terminal).
pub fn error(msg: &str) {
    line("error", "1;31", msg);
}

/// `warning: MSG` (bold yellow on a terminal).
pub fn warning(msg: &str) {
    line("warning", "1;33", msg);
}

/// `hint: MSG` (bold cyan on a terminal).
pub fn hint(msg: &str) {
    line("hint", "1;36", msg);
}
