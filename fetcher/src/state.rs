//! Per-package host state in `var/lib/kiln/<package>/`: the install history (for
//! rollback and status), the channel last followed, the pending switch of an install
//! that has not finished (so the next run can finish it), and the lock that serializes
//! runs. Every file is replaced by temp file + rename, never edited in place.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use release::Digest;
use serde::{Deserialize, Serialize};

use crate::error::Result;
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
    /// Remember a channel pointer this host accepted.
    pub fn accept(&mut self, channel: &str, sequence: u64, pointer: Option<release::Digest>) {
        self.channel = Some(channel.to_string());
        self.sequence = Some(sequence);
        let seen = self.seen.entry(channel.to_string()).or_insert(0);
        if sequence > *seen || !self.seen_pointer.contains_key(channel) {
            *seen = (*seen).max(sequence);
            match pointer {
                Some(d) => self.seen_pointer.insert(channel.to_string(), d),
                None => self.seen_pointer.remove(channel),
            };
        }
    }

    pub fn load(layout: &Layout, pkg: &str) -> Result<State> {
        let path = layout.state_dir(pkg).join("state.json");
        match std::fs::read(&path) {
            Ok(b) => Ok(serde_json::from_slice(&b)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                schema: 1,
                ..State::default()
            }),
            Err(e) => Err(anyhow::Error::new(e).context(path.display().to_string())),
        }
    }

    pub fn save(&self, layout: &Layout, pkg: &str) -> Result<()> {
        write_atomic(
            &layout.state_dir(pkg).join("state.json"),
            &serde_json::to_vec_pretty(self)?,
        )
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

pub fn load_pending(layout: &Layout, pkg: &str) -> Option<Pending> {
    let bytes = std::fs::read(layout.state_dir(pkg).join("pending.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn save_pending(layout: &Layout, pkg: &str, p: &Pending) -> Result<()> {
    write_atomic(
        &layout.state_dir(pkg).join("pending.json"),
        &serde_json::to_vec_pretty(p)?,
    )
}

pub fn clear_pending(layout: &Layout, pkg: &str) -> Result<()> {
    match std::fs::remove_file(layout.state_dir(pkg).join("pending.json")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Hold the package's lock until the returned file is dropped.
pub fn lock(layout: &Layout, pkg: &str) -> Result<File> {
    let dir = layout.state_dir(pkg);
    fs_err::create_dir_all(&dir)?;
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))?;
    f.lock()?;
    Ok(f)
}

/// Replace `path` with `bytes` by temp file, fsync and rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().expect("state files have a parent");
    fs_err::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        "{TMP_PREFIX}{}-{}",
        std::process::id(),
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut f = fs_err::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs_err::rename(&tmp, path)?;
    Ok(())
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
