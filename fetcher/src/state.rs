//! Per-package host state in `var/lib/kiln/<package>/`: the install history (for
//! rollback and status), the channel last followed, the pending switch of an install
//! that has not finished (so the next run can finish it), and the lock that serializes
//! runs. Every file is replaced by temp file + rename, never edited in place.

use fs_err::OpenOptions;
use std::path::Path;

use release::Digest;
use serde::{Deserialize, Serialize};

use crate::error::{Code, Result, hinted};
use crate::layout::{Layout, TMP_PREFIX};

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub build: u64,
    pub sha256: Digest,
    /// RFC 3339, UTC.
    pub at: String,
    /// install | rollback | auto-rollback
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

#[derive(Serialize, Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub schema: u32,
    /// The channel the last channel install followed, and its pointer's sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// The highest pointer sequence accepted per channel: an older pointer is a replay.
    #[serde(default)]
    pub seen: std::collections::BTreeMap<String, u64>,
    /// The sha256 of the pointer accepted at that sequence: the same sequence with
    /// other bytes is a replay too.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub seen_pointer: std::collections::BTreeMap<String, release::Digest>,
    pub history: Vec<Event>,
    /// The build left current after its restart or health check failed with nothing
    /// to go back to: not installed yet, so the next run checks it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<u64>,
    /// When `kiln-fetch remove` took the package off the host (RFC 3339): a follower
    /// installs nothing until an install puts it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
}

/// Written just before `current` switches, removed once the install is complete.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    pub from: Option<u64>,
    pub to: u64,
    pub action: String,
    pub restart: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer_sha256: Option<release::Digest>,
}

impl State {
    /// Remember a channel pointer this host followed.
    pub fn accept(&mut self, channel: &str, sequence: u64, pointer: Option<release::Digest>) {
        self.channel = Some(channel.to_string());
        self.sequence = Some(sequence);
        self.saw(channel, sequence, pointer);
    }

    /// Remember a channel pointer this host has seen, signed and fresh, before it acts
    /// on it: the replay bound holds even if the install is then killed.
    pub fn saw(&mut self, channel: &str, sequence: u64, pointer: Option<release::Digest>) {
        let seen = self.seen.entry(channel.to_string()).or_insert(0);
        if sequence > *seen || !self.seen_pointer.contains_key(channel) {
            *seen = (*seen).max(sequence);
            match pointer {
                Some(d) => self.seen_pointer.insert(channel.to_string(), d),
                None => self.seen_pointer.remove(channel),
            };
        }
    }

    /// The package's state; none yet is an empty history. A file that does not parse
    /// (or has a schema this kiln-fetch does not know) is an error naming it and the
    /// repair, never guessed at: it holds the channel sequences replays are refused by.
    pub fn load(layout: &Layout, pkg: &str) -> Result<State> {
        let path = layout.state_dir(pkg).join("state.json");
        let Some(bytes) = read_state_file(&path)? else {
            return Ok(State {
                schema: 1,
                ..State::default()
            });
        };
        let st: State = serde_json::from_slice(&bytes).map_err(|e| corrupt(&path, &e))?;
        if st.schema != 1 {
            return Err(corrupt(
                &path,
                &format!("schema {} (this kiln-fetch knows schema 1)", st.schema),
            ));
        }
        Ok(st)
    }

    pub fn save(&self, layout: &Layout, pkg: &str) -> Result<()> {
        write_atomic(
            layout,
            &layout.state_dir(pkg).join("state.json"),
            &serde_json::to_vec_pretty(self)?,
        )
    }

    /// Build `n` is installed: an install of it finished (the newest history entry)
    /// and it has not failed since.
    pub fn settled(&self, n: u64) -> bool {
        self.history.last().map(|e| e.build) == Some(n) && self.unfinished != Some(n)
    }

    /// The build to roll back to: the newest build in the history that is not `current`.
    pub fn rollback_target(&self, current: Option<u64>) -> Option<u64> {
        self.history
            .iter()
            .rev()
            .map(|e| e.build)
            .find(|b| Some(*b) != current)
    }
}

/// What the journal of an unfinished install says: nothing, the switch it recorded,
/// or that it is there but unreadable (the caller works out from the host what it owed).
pub enum Journal {
    None,
    Pending(Pending),
    Unreadable(String),
}

pub fn load_pending(layout: &Layout, pkg: &str) -> Result<Journal> {
    let path = layout.state_dir(pkg).join("pending.json");
    let Some(bytes) = read_state_file(&path)? else {
        return Ok(Journal::None);
    };
    Ok(match serde_json::from_slice(&bytes) {
        Ok(p) => Journal::Pending(p),
        Err(e) => Journal::Unreadable(format!("{}: {e}", path.display())),
    })
}

/// A state file's bytes (None if there is none), read without following a link and
/// bounded: state is small, and anything else in its place is refused.
pub fn read_state_file(path: &Path) -> Result<Option<Vec<u8>>> {
    use fs_err::os::unix::fs::OpenOptionsExt;
    use std::io::Read;
    const MAX_STATE: u64 = 16 << 20;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path);
    let file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(corrupt(path, &e)),
    };
    if !file.metadata()?.is_file() {
        return Err(corrupt(path, &"not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_STATE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_STATE {
        return Err(corrupt(path, &"larger than 16 MiB"));
    }
    Ok(Some(bytes))
}

pub fn corrupt(path: &Path, why: &dyn std::fmt::Display) -> anyhow::Error {
    let p = path.display();
    let lost = if path.file_name().is_some_and(|n| n == "keys-record.json") {
        "this host then forgets which keys record version it accepted, so it accepts any unexpired one a trusted root signed until it sees a newer one: check `kiln releases PACKAGE --verify` first"
    } else {
        "this package's install history and the channel sequences it followed start over; other packages are not affected"
    };
    hinted(
        Code::BadInput,
        format!("{p} is not a state file kiln-fetch can read: {why}"),
        format!("move it aside and run again: mv {p} {p}.corrupt ({lost})"),
    )
}

pub fn save_pending(layout: &Layout, pkg: &str, p: &Pending) -> Result<()> {
    write_atomic(
        layout,
        &layout.state_dir(pkg).join("pending.json"),
        &serde_json::to_vec_pretty(p)?,
    )
}

pub fn clear_pending(layout: &Layout, pkg: &str) -> Result<()> {
    match fs_err::remove_file(layout.state_dir(pkg).join("pending.json")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Hold the package's lock until the returned file is dropped.
pub fn lock(layout: &Layout, pkg: &str) -> Result<std::fs::File> {
    let dir = layout.state_dir(pkg);
    crate::layout::own_dir(layout, &dir)?;
    let f = lock_file(&dir.join("lock"))?;
    f.lock()?;
    Ok(f)
}

/// Open (creating) a lock file in a directory kiln-fetch owns, never through a link.
pub fn lock_file(path: &Path) -> Result<std::fs::File> {
    plumbing::fs::lock_file(path).map_err(|e| {
        if plumbing::fs::is_link_refused(&e) {
            crate::layout::not_ours(path)
        } else {
            anyhow::Error::new(e)
        }
    })
}

/// Replace `path` (in a directory kiln-fetch owns) with `bytes` by temp file, fsync
/// and rename; a full disk is named as such and leaves no temp file.
pub fn write_atomic(layout: &Layout, path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("state files have a parent");
    crate::layout::own_dir(layout, dir)?;
    let tmp = dir.join(format!(
        "{TMP_PREFIX}{}-{}",
        std::process::id(),
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    // A stale temp of a killed run with our pid is removed; the new one is created
    // exclusively, so a link in its place is never followed.
    let _ = fs_err::remove_file(&tmp);
    plumbing::fs::write_atomic_via(
        &tmp,
        path,
        bytes,
        true,
        "free space there (kiln-fetch gc removes old builds and cached downloads) and run again",
    )
}

pub fn now() -> String {
    plumbing::fs::now_rfc3339()
}
