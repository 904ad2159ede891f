//! What targets mean: labels, the BUILD.toml schema, and the typed targets the builder
//! plans from. Pure: this crate reads strings and returns values; it never touches the
//! disk, the network or a process.

mod diag;
mod label;
mod target;

pub use diag::{Diagnostic, line_col};
pub use label::{Label, Pattern, is_glob, parse_label, parse_pattern, validate_name};
pub use target::{BundleSpec, Item, Target, TargetKind, parse_build_file};
