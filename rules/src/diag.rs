//! A diagnostic points at a byte range of the file it came from; the builder turns the
//! range into `file:line:column`.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: Option<Range<usize>>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Option<Range<usize>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// From a TOML parse or schema error, keeping its span.
    pub fn from_toml(err: &toml::de::Error) -> Diagnostic {
        let mut message = err.message().trim_end().replace('\n', "; ");
        // The toml crate hands a date-time to serde as a table with one private key.
        if message.contains("`$__toml_private_datetime`") {
            message = "found a date-time where a table belongs".to_string();
        }
        let hint = if message.starts_with("unknown field") {
            Some("remove the key or fix its spelling; the message lists the keys allowed here")
        } else if message.starts_with("missing field") {
            Some("add the missing key")
        } else {
            None
        };
        Diagnostic {
            span: err.span(),
            message,
            hint: hint.map(str::to_string),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset: the one rule, shared
/// with kiln-fetch.
pub use plumbing::error::line_col;

#[cfg(test)]
mod tests {
    #[test]
    fn line_col_counts_from_one() {
        let t = "a\nbc\nd";
        assert_eq!(super::line_col(t, 0), (1, 1));
        assert_eq!(super::line_col(t, 3), (2, 2));
        assert_eq!(super::line_col(t, 5), (3, 1));
    }
}
