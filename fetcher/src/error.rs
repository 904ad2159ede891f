//! The exit-code classes, the one reporter and the one JSON object live in
//! `plumbing`; kiln-fetch's commands use them through this module.

pub use plumbing::error::{Code, Result, changed, err, hinted, mark_changed};
