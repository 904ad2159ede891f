//! Reading and writing archives safely, shared by `kiln` and `kiln-fetch`.
//! Packing is deterministic (same entries, same bytes); unpacking never writes outside
//! its destination, whatever the archive says.

mod pack;
mod path;
mod unpack;

pub use pack::{PackEntry, PackSource, pack_tar_gz};
pub use path::normalize_entry_path;
pub use unpack::{Format, TreeEntry, TreeFile, UnpackError, sniff_format, unpack};
