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

/// Whether `c` may reach a terminal from text someone else chose (a server's message, a
/// command's log): no control characters (C0, C1: no escape sequences), no bidirectional
/// overrides or isolates, no invisible joiners and marks that could reorder or hide what
/// is shown. Tabs are kept.
pub fn printable(c: char) -> bool {
    c == '\t'
        || !(c.is_control()
            || matches!(c,
                '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2069}' | '\u{FEFF}'))
}

/// `text` with only `printable` characters, at most `max` of them.
pub fn printable_text(text: &str, max: usize) -> String {
    text.chars().filter(|c| printable(*c)).take(max).collect()
}

#[cfg(test)]
mod printable_tests {
    #[test]
    fn escapes_overrides_and_invisibles_are_dropped() {
        let hostile =
            "a\u{1b}[31m\u{9b}2J\u{202E}DESSAP\u{202C}\u{2066}x\u{2069}\u{200B}\u{061C}\u{FEFF}\tb";
        assert_eq!(super::printable_text(hostile, 100), "a[31m2JDESSAPx\tb");
        assert_eq!(super::printable_text("ééé", 2), "éé");
    }
}
