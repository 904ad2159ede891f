//! The exit-code classes and the one reporter live in `plumbing::error`; this adds
//! what only the builder has: errors placed in a BUILD.toml or WORKSPACE.toml.

use std::path::Path;

pub use plumbing::error::{Code, Result, bad_input, env_failed, failed, hinted};

/// An error at a place in a file: `path:line:col: message`.
pub fn at(path: &Path, text: &str, diag: &rules::Diagnostic) -> anyhow::Error {
    let place = plumbing::error::place(path, text, diag.span.as_ref().map(|s| s.start));
    match &diag.hint {
        Some(h) => hinted(Code::BadInput, format!("{place}: {}", diag.message), h),
        None => bad_input(format!("{place}: {}", diag.message)),
    }
}
