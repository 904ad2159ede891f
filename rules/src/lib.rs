//! What targets mean: labels, the BUILD.toml schema, and the typed targets the builder
//! plans from. Pure: this crate reads strings and returns values; it never touches the
//! disk, the network or a process.

/// The file that makes a directory a package.
pub const BUILD_FILE: &str = "BUILD.toml";
/// The file at a workspace's root.
pub const WORKSPACE_FILE: &str = "WORKSPACE.toml";

mod diag;
mod label;
pub mod pylock;
pub mod pyreq;
mod target;
mod workspace;

pub use diag::{Diagnostic, line_col};
pub use label::{Label, Pattern, is_glob, parse_label, parse_pattern, validate_name};
pub use target::{
    BUNDLE_TWIN, BundleSpec, DEFAULT_GENRULE_TIMEOUT, DEFAULT_TEST_TIMEOUT, GenruleSpec, Item,
    PyBinarySpec, PyScriptsSpec, PyStart, Target, TargetKind, TestSpec, console_scripts,
    expand_py_scripts, parse_build_file,
};
pub use workspace::{
    ArchiveSpec, CacheMode, CacheSpec, ExtractLimits, InterpreterSpec, PythonLockSpec,
    RemoteSection, WorkspaceSpec, parse_workspace_file,
};
