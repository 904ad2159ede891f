//! kiln's actions as REAPI `Action`s, so any REAPI server can cache them and a kiln
//! worker can run them.
//!
//! A command action (genrule, test) is what the Linux sandbox runs, laid out as the
//! sandbox lays it out: the input root holds `runfiles/` (the action's runfiles tree,
//! mounted read-only at /kiln/runfiles), outputs are `out/<path>` (written under
//! /kiln/out), and the command runs in /kiln/runfiles/_main. The `Command` carries the
//! arguments and the whole environment exactly as the command sees them, and the
//! platform properties `OSFamily`, `ISA` and `kiln-sandbox` (the sandbox and layout
//! version, `linux-v1`), which bots must match. A test's log is its stdout.
//!
//! Bundles are packed by kiln itself: their `Command` names the manifest's digest,
//! format and mtime (everything the bundle's bytes depend on), has an empty input
//! root and the property `kiln-action = bundle`, which no worker offers, so a server
//! can cache them but never run them.

use std::collections::BTreeMap;
use std::time::Duration;

use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::google::protobuf::Duration as PbDuration;
use prost::Message;
use release::Digest;

use super::{Blob, to_re};
use crate::action::Output;
use crate::analyze::{FileRef, Files};

/// The sandbox's layout in the input root.
pub const RUNFILES: &str = "runfiles";
pub const OUT: &str = "out";

/// Where a record's output is in an `ActionResult`.
#[derive(Clone, Debug)]
pub enum Place {
    /// An output file at this path (relative to the input root).
    File(String),
    /// The command's stdout (a test's log).
    Stdout,
}

/// One action in REAPI's terms.
pub struct Shape {
    pub digest: re::Digest,
    /// The time limit the action carries.
    pub timeout: Duration,
    /// The encoded Action, Command and input Directory messages.
    pub messages: Vec<Vec<u8>>,
    /// The input files: where they are on this machine.
    pub files: Vec<Blob>,
    /// kiln's name of each output, and where it is in a result.
    pub outputs: Vec<(String, Place)>,
    /// The sandbox the action runs in (`kiln-sandbox`).
    pub sandbox: String,
}

fn property(name: &str, value: &str) -> re::platform::Property {
    re::platform::Property {
        name: name.into(),
        value: value.into(),
    }
}

/// The platform of a command action: what a worker must offer to run it.
pub fn platform(sandbox: &str) -> re::Platform {
    // Sorted by name, as REAPI requires.
    re::Platform {
        properties: vec![
            property("ISA", std::env::consts::ARCH),
            property("OSFamily", std::env::consts::OS),
            property("kiln-sandbox", sandbox),
        ],
    }
}

/// A directory of the input tree while it is built.
#[derive(Default)]
struct Node {
    files: BTreeMap<String, (re::Digest, bool)>,
    links: BTreeMap<String, String>,
    dirs: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, path: &str, f: &FileRef) {
        match path.split_once('/') {
            Some((dir, rest)) => self
                .dirs
                .entry(dir.to_string())
                .or_default()
                .insert(rest, f),
            None => match f {
                FileRef::File {
                    sha256,
                    size,
                    executable,
                    ..
                } => {
                    self.files
                        .insert(path.to_string(), (to_re(sha256, *size), *executable));
                }
                FileRef::Link { target } => {
                    self.links.insert(path.to_string(), target.clone());
                }
            },
        }
    }

    /// This directory's message (its children's first into `out`) and its digest.
    fn encode(self, out: &mut Vec<Vec<u8>>) -> re::Digest {
        let mut dir = re::Directory::default();
        for (name, node) in self.dirs {
            let digest = node.encode(out);
            dir.directories.push(re::DirectoryNode {
                name,
                digest: Some(digest),
            });
        }
        for (name, (digest, is_executable)) in self.files {
            dir.files.push(re::FileNode {
                name,
                digest: Some(digest),
                is_executable,
                ..Default::default()
            });
        }
        for (name, target) in self.links {
            dir.symlinks.push(re::SymlinkNode {
                name,
                target,
                ..Default::default()
            });
        }
        let bytes = dir.encode_to_vec();
        let digest = to_re(&Digest::of_bytes(&bytes), bytes.len() as u64);
        out.push(bytes);
        digest
    }
}

fn duration(d: Duration) -> PbDuration {
    PbDuration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

impl Shape {
    /// A command action: `argv` and `env` as the command sees them, its runfiles tree,
    /// its declared outputs (paths below the outputs directory) or, with `log`, its
    /// stdout as the one output `test.log`.
    pub fn command(
        sandbox: &str,
        argv: &[String],
        env: &BTreeMap<String, String>,
        inputs: &Files,
        outs: &[String],
        log: bool,
        timeout: Duration,
    ) -> Shape {
        let mut root = Node::default();
        let mut files = Vec::new();
        for (rel, f) in inputs {
            root.insert(&format!("{RUNFILES}/{rel}"), f);
            if let FileRef::File {
                abs, size, sha256, ..
            } = f
            {
                files.push(Blob::file(abs, sha256, *size));
            }
        }
        let outputs: Vec<(String, Place)> = if log {
            vec![("test.log".to_string(), Place::Stdout)]
        } else {
            outs.iter()
                .map(|o| (o.clone(), Place::File(format!("{OUT}/{o}"))))
                .collect()
        };
        let mut paths: Vec<String> = outputs
            .iter()
            .filter_map(|(_, p)| match p {
                Place::File(p) => Some(p.clone()),
                Place::Stdout => None,
            })
            .collect();
        paths.sort();
        #[allow(deprecated)]
        let command = re::Command {
            arguments: argv.to_vec(),
            environment_variables: env
                .iter()
                .map(|(name, value)| re::command::EnvironmentVariable {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            output_files: paths.clone(),
            output_paths: paths,
            platform: Some(platform(sandbox)),
            ..Default::default()
        };
        Shape::finish(command, root, files, outputs, sandbox, timeout)
    }

    /// An action kiln performs itself (a bundle): cached by the server, run by none.
    pub fn internal(kind: &str, args: &[String], outputs: &[String]) -> Shape {
        let mut arguments = vec!["kiln".to_string(), kind.to_string()];
        arguments.extend(args.iter().cloned());
        let mut paths: Vec<String> = outputs.to_vec();
        paths.sort();
        #[allow(deprecated)]
        let command = re::Command {
            arguments,
            output_files: paths.clone(),
            output_paths: paths,
            platform: Some(re::Platform {
                properties: vec![property("kiln-action", kind)],
            }),
            ..Default::default()
        };
        let outputs = outputs
            .iter()
            .map(|o| (o.clone(), Place::File(o.clone())))
            .collect();
        Shape::finish(
            command,
            Node::default(),
            Vec::new(),
            outputs,
            "kiln",
            Duration::ZERO,
        )
    }

    fn finish(
        command: re::Command,
        root: Node,
        files: Vec<Blob>,
        outputs: Vec<(String, Place)>,
        sandbox: &str,
        timeout: Duration,
    ) -> Shape {
        let mut messages = Vec::new();
        let input_root = root.encode(&mut messages);
        let command_bytes = command.encode_to_vec();
        let command_digest = to_re(
            &Digest::of_bytes(&command_bytes),
            command_bytes.len() as u64,
        );
        messages.push(command_bytes);
        // Servers before REAPI 2.2 read the platform from the Command, later ones from
        // the Action: both carry it.
        #[allow(deprecated)]
        let platform = command.platform.clone();
        let action = re::Action {
            command_digest: Some(command_digest),
            input_root_digest: Some(input_root),
            timeout: (!timeout.is_zero()).then(|| duration(timeout)),
            do_not_cache: false,
            platform,
            ..Default::default()
        };
        let action_bytes = action.encode_to_vec();
        let digest = to_re(&Digest::of_bytes(&action_bytes), action_bytes.len() as u64);
        messages.push(action_bytes);
        Shape {
            digest,
            timeout,
            messages,
            files,
            outputs,
            sandbox: sandbox.to_string(),
        }
    }

    /// The result recording `outputs` (in `self.outputs`' order).
    pub fn result(&self, outputs: &[Output]) -> re::ActionResult {
        let mut result = re::ActionResult::default();
        for ((_, place), o) in self.outputs.iter().zip(outputs) {
            let digest = to_re(&o.sha256, o.size);
            match place {
                Place::Stdout => result.stdout_digest = Some(digest),
                Place::File(path) => result.output_files.push(re::OutputFile {
                    path: path.clone(),
                    digest: Some(digest),
                    is_executable: o.executable,
                    ..Default::default()
                }),
            }
        }
        result.output_files.sort_by(|a, b| a.path.cmp(&b.path));
        result
    }

    /// The outputs a successful result records, in `self.outputs`' order; None when it
    /// failed or lacks one.
    pub fn outputs_of(&self, r: &re::ActionResult) -> Option<Vec<Output>> {
        if r.exit_code != 0 {
            return None;
        }
        self.outputs
            .iter()
            .map(|(name, place)| {
                let (digest, executable) = match place {
                    Place::Stdout => (r.stdout_digest.as_ref()?, false),
                    Place::File(path) => {
                        let f = r.output_files.iter().find(|f| f.path == *path)?;
                        (f.digest.as_ref()?, f.is_executable)
                    }
                };
                let (sha256, size) = super::from_re(digest)?;
                Some(Output {
                    name: name.clone(),
                    sha256,
                    size,
                    executable,
                })
            })
            .collect()
    }

    /// Is the action's one output its stdout (a test's log)?
    pub fn log_is_stdout(&self) -> bool {
        self.outputs
            .iter()
            .any(|(_, place)| matches!(place, Place::Stdout))
    }

    /// The Action, Command and Directory messages as blobs.
    pub fn message_blobs(&self) -> Vec<Blob> {
        self.messages.iter().cloned().map(Blob::bytes_of).collect()
    }

    /// Every input file and message: what an executor needs in its CAS.
    pub fn input_blobs(&self) -> Vec<Blob> {
        let mut blobs = self.message_blobs();
        blobs.extend(self.files.iter().cloned());
        blobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(b: &[u8], executable: bool) -> FileRef {
        FileRef::File {
            abs: std::path::PathBuf::from("/x"),
            size: b.len() as u64,
            sha256: Digest::of_bytes(b),
            executable,
        }
    }

    /// Everything the command can observe changes the action's digest, one change at a
    /// time; the same action twice has the same digest.
    #[test]
    fn every_observable_field_is_in_the_action_digest() {
        let argv = vec!["/bin/sh".to_string(), "-c".into(), "cat $SRCS".into()];
        let env: BTreeMap<String, String> = [("SOURCE_DATE_EPOCH", "0"), ("SRCS", "a")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let inputs: Files = [
            ("_main/p/a".to_string(), file(b"a", false)),
            ("_main/p/t".to_string(), file(b"t", true)),
            (
                "_main/p/l".to_string(),
                FileRef::Link { target: "a".into() },
            ),
        ]
        .into_iter()
        .collect();
        let outs = vec!["o.txt".to_string()];
        let t = Duration::from_secs(600);
        let base = Shape::command("linux-v1", &argv, &env, &inputs, &outs, false, t).digest;
        assert_eq!(
            base,
            Shape::command("linux-v1", &argv, &env, &inputs, &outs, false, t).digest
        );
        let with = |k: &str, v: &str| {
            let mut e = env.clone();
            e.insert(k.into(), v.into());
            e
        };
        let changed = |path: &str, f: FileRef| {
            let mut i = inputs.clone();
            i.insert(path.into(), f);
            i
        };
        let argv2 = vec!["/bin/sh".to_string(), "-c".into(), "cat $SRCS ".into()];
        let cases: Vec<(&str, Shape)> = vec![
            (
                "sandbox",
                Shape::command("linux-v2", &argv, &env, &inputs, &outs, false, t),
            ),
            (
                "argv",
                Shape::command("linux-v1", &argv2, &env, &inputs, &outs, false, t),
            ),
            (
                "env value",
                Shape::command(
                    "linux-v1",
                    &argv,
                    &with("SRCS", "b"),
                    &inputs,
                    &outs,
                    false,
                    t,
                ),
            ),
            (
                "env var",
                Shape::command("linux-v1", &argv, &with("X", ""), &inputs, &outs, false, t),
            ),
            (
                "content",
                Shape::command(
                    "linux-v1",
                    &argv,
                    &env,
                    &changed("_main/p/a", file(b"A", false)),
                    &outs,
                    false,
                    t,
                ),
            ),
            (
                "mode",
                Shape::command(
                    "linux-v1",
                    &argv,
                    &env,
                    &changed("_main/p/a", file(b"a", true)),
                    &outs,
                    false,
                    t,
                ),
            ),
            (
                "link",
                Shape::command(
                    "linux-v1",
                    &argv,
                    &env,
                    &changed("_main/p/l", FileRef::Link { target: "t".into() }),
                    &outs,
                    false,
                    t,
                ),
            ),
            (
                "new input",
                Shape::command(
                    "linux-v1",
                    &argv,
                    &env,
                    &changed("_main/q/a", file(b"a", false)),
                    &outs,
                    false,
                    t,
                ),
            ),
            (
                "outs",
                Shape::command(
                    "linux-v1",
                    &argv,
                    &env,
                    &inputs,
                    &["p.txt".to_string()],
                    false,
                    t,
                ),
            ),
            (
                "log",
                Shape::command("linux-v1", &argv, &env, &inputs, &[], true, t),
            ),
            (
                "timeout",
                Shape::command("linux-v1", &argv, &env, &inputs, &outs, false, t * 2),
            ),
        ];
        let mut seen = vec![base.hash.clone()];
        for (what, shape) in cases {
            assert!(
                !seen.contains(&shape.digest.hash),
                "{what} does not change the digest"
            );
            seen.push(shape.digest.hash);
        }
    }

    /// The input root holds only `runfiles/`; every Directory lists its entries sorted,
    /// and a result maps back to the declared outputs only.
    #[test]
    fn the_input_root_is_the_sandbox_layout_and_results_map_back() {
        let inputs: Files = [
            ("_main/b".to_string(), file(b"b", false)),
            ("_main/a".to_string(), file(b"a", false)),
        ]
        .into_iter()
        .collect();
        let shape = Shape::command(
            "linux-v1",
            &["/bin/true".to_string()],
            &BTreeMap::new(),
            &inputs,
            &["o".to_string()],
            false,
            Duration::from_secs(1),
        );
        let dirs: Vec<re::Directory> = shape
            .messages
            .iter()
            .filter_map(|m| re::Directory::decode(&m[..]).ok())
            .collect();
        let root = dirs
            .iter()
            .find(|d| d.directories.iter().any(|n| n.name == RUNFILES))
            .expect("a root");
        assert!(root.files.is_empty() && root.directories.len() == 1);
        let main = dirs.iter().find(|d| d.files.len() == 2).expect("_main");
        assert_eq!(main.files[0].name, "a");
        let out = Output {
            name: "o".into(),
            sha256: Digest::of_bytes(b"o"),
            size: 1,
            executable: true,
        };
        let mut result = shape.result(std::slice::from_ref(&out));
        assert_eq!(result.output_files[0].path, "out/o");
        assert_eq!(shape.outputs_of(&result), Some(vec![out]));
        result.exit_code = 1;
        assert_eq!(shape.outputs_of(&result), None, "a failed run is no result");
        result.exit_code = 0;
        result.output_files[0].path = "out/../o".into();
        assert_eq!(shape.outputs_of(&result), None, "only the declared path");
    }
}
