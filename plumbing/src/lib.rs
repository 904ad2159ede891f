//! What `kiln` and `kiln-fetch` both need and neither side owns: the exit-code classes
//! and the one reporter of errors ([`error`]), the one JSON object every command prints
//! with `--json` ([`output`]), the global flags ([`flags`]), the progress trait the
//! libraries call and only the binaries draw ([`progress`]), one duration syntax
//! ([`duration`]), file helpers that never follow a link they did not create ([`fs`]),
//! coloured `error:`/`warning:` on a terminal ([`style`]), and the fault-injection
//! points of the crash tests, compiled only with the `fault-injection` feature
//! ([`fault`]).

pub mod docs;
pub mod duration;
pub mod error;
pub mod fault;
pub mod flags;
pub mod fs;
pub mod output;
pub mod process;
pub mod progress;
mod remove;
pub mod retry;
pub mod size;
pub mod style;

pub use error::{Code, Result};
