//! Bundles: launchers plus runfiles plus MANIFEST.json, packed deterministically. The
//! bundle is a pure function of its manifest (every file's path, digest and mode) and
//! the fixed mtime, so that is its action key: a hit in the action cache restores the
//! bytes from the CAS without packing anything.

use std::io::BufWriter;
use std::path::PathBuf;

use archive::{PackEntry, PackSource};
use release::{Digest, FileEntry, Input, MANIFEST_PATH, Manifest, SCHEMA};
use rules::{BundleSpec, Label, TargetKind};
use serde::{Deserialize, Serialize};

use crate::analyze::{FileRef, Files, script_path};
use crate::cache::{Cache, HashingWriter};
use crate::error::{Code, Result, hinted};
use crate::load::{Graph, Package};
use crate::outdir::{OutDir, in_package};

pub use crate::action::Status;

pub struct Built {
    pub label: Label,
    pub package: String,
    /// Relative to the workspace root.
    pub out: PathBuf,
    pub sha256: Digest,
    pub size: u64,
    pub manifest_sha256: Digest,
    pub status: Status,
}

#[derive(Serialize, Deserialize, PartialEq)]
struct ActionResult {
    sha256: Digest,
    size: u64,
}

impl crate::action::Record for ActionResult {
    fn outputs(&self) -> Vec<crate::action::Output> {
        vec![crate::action::Output {
            name: "bundle".into(),
            sha256: self.sha256,
            size: self.size,
            executable: false,
        }]
    }

    fn from_outputs(outputs: Vec<crate::action::Output>, _sandbox: &str) -> ActionResult {
        let o = &outputs[0];
        ActionResult {
            sha256: o.sha256,
            size: o.size,
        }
    }
}

/// What a bundle's action key covers: the bundle is a pure function of its manifest,
/// the packer's format and the mtime.
#[derive(Serialize)]
struct KeyDoc<'a> {
    kind: &'static str,
    format: &'a str,
    mtime: u64,
    manifest: Digest,
}

/// What kiln-out held after the last build, so a no-op build need not rehash it.
#[derive(Serialize, Deserialize, PartialEq)]
struct OutputState {
    key: Digest,
    sha256: Digest,
    size: u64,
    ino: u64,
    mtime_ns: i128,
}

pub struct BundleCtx<'a> {
    pub cache: &'a Cache,
    pub remote: Option<&'a crate::remote::Remote>,
    pub graph: &'a Graph,
    pub out: &'a OutDir,
    /// SOURCE_DATE_EPOCH, else 0.
    pub mtime: u64,
    pub ui: crate::ui::Ui,
}

/// The shell launcher of a binary: finds the bundle from its own real path (through
/// any symlink, such as /usr/local/bin/NAME), exports RUNFILES_DIR, runs `command`
/// (a runfiles path, quoted, with what runs it before it) with the arguments.
fn launcher(label: &Label, command: &str) -> String {
    format!(
        r#"#!/bin/sh
# kiln launcher for {label}
self=$(readlink -f -- "$0") || exit 127
RUNFILES_DIR=$(cd -- "$(dirname -- "$self")/../runfiles" && pwd -P) || exit 127
export RUNFILES_DIR
exec {command} "$@"
"#
    )
}

/// A wrapper's launcher runs its script; a py_binary's runs the host's python3,
/// isolated (`-I`: no user site, no `PYTHON*` variables; `-S`: no site-packages at
/// all; `-B`: no bytecode written into the installed build), on its bootstrap.
pub fn binary_launcher(
    ws: &crate::workspace::Workspace,
    label: &Label,
    pkg: &Package,
    t: &rules::Target,
) -> String {
    match &t.kind {
        TargetKind::Wrapper { src, .. } => launcher(
            label,
            &format!("\"$RUNFILES_DIR/{}\"", script_path(pkg, src)),
        ),
        TargetKind::PyBinary(_) => launcher(
            label,
            &format!(
                "{} -B -I -S \"$RUNFILES_DIR/{}\"",
                crate::python::program(ws),
                crate::python::bootstrap_path(&pkg.name, &t.name)
            ),
        ),
        _ => unreachable!("the loader checks binaries are wrappers or py_binary targets"),
    }
}

pub fn build_bundle(
    ctx: &BundleCtx,
    files: &Files,
    pkg: &Package,
    name: &str,
    spec: &BundleSpec,
    inputs: Vec<Input>,
) -> Result<Built> {
    let label = Label::Target {
        package: pkg.name.clone(),
        name: name.to_string(),
    };
    let (entries, mut manifest_files, binaries) = contents(ctx, files, spec);
    manifest_files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    if let Some(health) = spec.service.as_ref().and_then(|s| s.health.as_ref())
        && !manifest_files.iter().any(|f| &f.path == health)
    {
        return Err(ctx.graph.error_at(
            pkg,
            pkg.targets
                .iter()
                .find(|t| t.name == name)
                .expect("target exists")
                .name_span
                .clone(),
            format!("bundle {label}: health check {health:?} is not a file of the bundle"),
            Some("name a path inside the bundle, such as bin/<wrapper> for a [[wrapper]] in binaries".into()),
        ));
    }
    // Python binaries run on the host's python3: the version they were built for
    // (nothing to say when they carry their interpreter).
    let on_host_python = ctx.graph.ws.interpreter.is_none()
        && spec.binaries.iter().any(|i| {
            matches!(i, rules::Item::Label { label, .. }
                if ctx.graph.target(label).is_some_and(|(_, t)| matches!(t.kind, TargetKind::PyBinary(_))))
        });
    let python = on_host_python
        .then(|| {
            let asked;
            let interp = match &ctx.graph.ws.python {
                Some(p) => Some(p),
                None => {
                    asked = crate::python::host_interpreter().ok();
                    asked.as_ref()
                }
            };
            interp.and_then(|p| p.markers.get("python_version").cloned())
        })
        .flatten();
    let manifest = Manifest {
        schema: SCHEMA,
        package: spec.package.clone(),
        kind: spec.kind,
        binaries,
        service: spec.service.clone(),
        python,
        inputs,
        files: manifest_files,
    };
    let manifest_bytes = manifest.to_bytes();
    let manifest_sha256 = Digest::of_bytes(&manifest_bytes);

    let key = crate::action::key(&KeyDoc {
        kind: "bundle",
        format: archive::GZIP_FORMAT,
        mtime: ctx.mtime,
        manifest: manifest_sha256,
    });

    let out = in_package(&pkg.name, &format!("{}.tar.gz", spec.package));
    let rel_out = OutDir::display(&out);
    let state_path = in_package(
        &format!(".kiln/outputs/{}", pkg.name),
        &format!("{}.json", spec.package),
    );
    let built = |status, r: &ActionResult| Built {
        label: label.clone(),
        package: spec.package.clone(),
        out: rel_out.clone(),
        sha256: r.sha256,
        size: r.size,
        manifest_sha256,
        status,
    };

    if let Some(state) = ctx
        .out
        .read(&state_path)
        .and_then(|b| serde_json::from_slice::<OutputState>(&b).ok())
        && state.key == key
        && output_state(ctx.out, &out, &state).is_some_and(|s| s == state)
    {
        let r = ActionResult {
            sha256: state.sha256,
            size: state.size,
        };
        return Ok(built(Status::UpToDate, &r));
    }

    let actions = crate::action::ActionCache {
        cache: ctx.cache,
        remote: ctx.remote,
        ui: ctx.ui,
    };
    let shape = actions.shape(|| {
        crate::reapi::Shape::internal(
            "bundle",
            &[
                format!("--format={}", archive::GZIP_FORMAT),
                format!("--mtime={}", ctx.mtime),
                format!("--manifest=sha256:{}", manifest_sha256.hex()),
            ],
            &[format!("{}.tar.gz", spec.package)],
        )
    });
    let what = format!("bundle {label}");
    let (result, status) =
        match actions.lookup(&what, &key, shape.as_ref(), |_: &ActionResult| true) {
            Some(r) => (r, Status::Cached),
            None => {
                let r = pack(ctx, &label, manifest_bytes, entries)?;
                actions.record(&key, &r, true, shape.as_ref())?;
                (r, Status::Built)
            }
        };
    ctx.out.place(&ctx.cache.cas_path(&result.sha256), &out)?;
    let mut state = OutputState {
        key,
        sha256: result.sha256,
        size: result.size,
        ino: 0,
        mtime_ns: 0,
    };
    if let Some(s) = output_state(ctx.out, &out, &state) {
        state = s;
    }
    ctx.out.write(&state_path, &serde_json::to_vec(&state)?)?;
    Ok(built(status, &result))
}

/// The state `out` is in now, carrying over the key and digest from `like`.
fn output_state(dir: &OutDir, out: &str, like: &OutputState) -> Option<OutputState> {
    let m = dir.stat(out)?;
    Some(OutputState {
        key: like.key,
        sha256: like.sha256,
        size: m.size,
        ino: m.ino,
        mtime_ns: m.mtime_ns,
    })
}

/// What a bundle holds: the pack entries (launchers, then runfiles), their manifest
/// entries, and the names of its binaries.
fn contents(
    ctx: &BundleCtx,
    files: &Files,
    spec: &BundleSpec,
) -> (Vec<PackEntry>, Vec<FileEntry>, Vec<String>) {
    let mut entries: Vec<PackEntry> = Vec::new();
    let mut manifest_files: Vec<FileEntry> = Vec::new();
    let mut binaries = Vec::new();

    for item in &spec.binaries {
        let rules::Item::Label { label: wl, .. } = item else {
            unreachable!("rules allow only labels as binaries")
        };
        let (wpkg, wt) = ctx.graph.target(wl).expect("resolved");
        let text = binary_launcher(&ctx.graph.ws, wl, wpkg, wt).into_bytes();
        let path = format!("bin/{}", wt.name);
        manifest_files.push(FileEntry {
            path: path.clone(),
            size: text.len() as u64,
            sha256: Some(Digest::of_bytes(&text)),
            mode: 0o755,
            target: None,
        });
        entries.push(PackEntry {
            path,
            executable: true,
            source: PackSource::Bytes(text),
        });
        binaries.push(wt.name.clone());
    }
    for (rel, f) in files.iter() {
        let path = format!("runfiles/{rel}");
        match f {
            FileRef::File {
                abs,
                size,
                sha256,
                executable,
            } => {
                manifest_files.push(FileEntry {
                    path: path.clone(),
                    size: *size,
                    sha256: Some(*sha256),
                    mode: if *executable { 0o755 } else { 0o644 },
                    target: None,
                });
                entries.push(PackEntry {
                    path,
                    executable: *executable,
                    source: PackSource::File {
                        path: abs.clone(),
                        size: *size,
                        sha256: *sha256,
                    },
                });
            }
            FileRef::Link { target } => {
                manifest_files.push(FileEntry {
                    path: path.clone(),
                    size: 0,
                    sha256: None,
                    mode: 0o777,
                    target: Some(target.clone()),
                });
                entries.push(PackEntry {
                    path,
                    executable: false,
                    source: PackSource::Symlink(target.clone()),
                });
            }
        }
    }
    (entries, manifest_files, binaries)
}

/// Pack the bundle into the CAS: MANIFEST.json first, then `entries`.
fn pack(
    ctx: &BundleCtx,
    label: &Label,
    manifest_bytes: Vec<u8>,
    entries: Vec<PackEntry>,
) -> Result<ActionResult> {
    let tmp = ctx.cache.tmp_path("bundle");
    let file = fs_err::File::create(&tmp)?;
    let writer = HashingWriter::new(BufWriter::with_capacity(256 * 1024, file));
    let first = PackEntry {
        path: MANIFEST_PATH.to_string(),
        executable: false,
        source: PackSource::Bytes(manifest_bytes),
    };
    let packed = archive::pack_tar_gz(writer, first, entries, ctx.mtime);
    let writer = match packed {
        Ok(w) => w,
        Err(e) => {
            let _ = fs_err::remove_file(&tmp);
            return Err(hinted(
                Code::Failed,
                format!("packing {label} failed: {e}"),
                "run the build again; if a source changed while it was packed, this settles it",
            ));
        }
    };
    let size = writer.hasher.len();
    let sha256 = writer.hasher.finish();
    writer.inner.into_inner().map_err(|e| e.into_error())?;
    ctx.cache.insert_file(&tmp, &sha256)?;
    Ok(ActionResult { sha256, size })
}
