//! Shell completions (clap_complete) and man pages (clap_mangen) from a binary's clap
//! definition: `kiln completions bash|zsh|fish`, `kiln man --out DIR` (the same for
//! kiln-fetch). The pages and scripts checked in under docs/man/ and
//! contrib/completions/ are compared with these by the tests, so they cannot drift.

use std::path::Path;

use serde::Serialize;

use crate::output::{Human, Output};

#[derive(Clone, Copy, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The completion script for `shell`.
pub fn completions(mut cmd: clap::Command, shell: Shell) -> String {
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    match shell {
        Shell::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, name, &mut out)
        }
        Shell::Zsh => clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, name, &mut out),
        Shell::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, name, &mut out)
        }
    }
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

/// The man page, `NAME.1`: one page per binary, holding every visible subcommand's
/// synopsis, options, examples and exit codes (`kiln-fetch(1)` is the host tool, so
/// `kiln fetch` cannot have a page of that name: no subcommand has a page of its own).
pub fn man_pages(cmd: clap::Command) -> Vec<(String, Vec<u8>)> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let name = cmd.get_name().to_string();
    let top = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    let sections = |m: &clap_mangen::Man, w: &mut Vec<u8>, sub: bool| -> std::io::Result<()> {
        if !sub {
            m.render_title(w)?;
            m.render_name_section(w)?;
        }
        m.render_synopsis_section(w)?;
        m.render_description_section(w)?;
        m.render_options_section(w)?;
        m.render_extra_section(w)
    };
    sections(&top, &mut out, false).expect("rendering to memory");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let full = format!("{name} {}", sub.get_name());
        out.extend_from_slice(format!(".SH \"{}\"\n", full.to_uppercase()).as_bytes());
        let mut part = Vec::new();
        // The global flags are in the page's own OPTIONS once, not under every command.
        let sub = sub
            .clone()
            .bin_name(full)
            .mut_args(|a| if a.is_global_set() { a.hide(true) } else { a });
        let m = clap_mangen::Man::new(sub);
        sections(&m, &mut part, true).expect("rendering to memory");
        // Each subcommand's sections are subsections of its own.
        for line in String::from_utf8_lossy(&part).lines() {
            let line = line
                .strip_prefix(".SH ")
                .map_or(line.to_string(), |rest| format!(".SS {rest}"));
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    top.render_version_section(&mut out)
        .expect("rendering to memory");
    vec![(format!("{name}.1"), out)]
}

/// `completions SHELL`'s output.
#[derive(Serialize)]
pub struct Completions {
    pub shell: Shell,
    pub script: String,
}

impl Output for Completions {
    fn human(&self, out: &mut Human) {
        out.raw(&self.script);
    }
}

/// `man [--out DIR]`'s output: the pages written, or kiln.1 on stdout.
#[derive(Serialize)]
pub struct Man {
    pub written: Vec<String>,
    #[serde(skip)]
    page: Option<String>,
}

impl Output for Man {
    fn changed(&self) -> bool {
        !self.written.is_empty()
    }

    fn human(&self, out: &mut Human) {
        match &self.page {
            Some(p) => out.raw(p),
            None if self.written.is_empty() => out.status("every page is current"),
            None => out.status(format!("wrote {}", self.written.join(", "))),
        }
    }
}

/// Write every page into `dir` (atomically each), or return the top page to print.
pub fn man(cmd: clap::Command, dir: Option<&Path>) -> crate::Result<Man> {
    let pages = man_pages(cmd.clone());
    let Some(dir) = dir else {
        let top = format!("{}.1", cmd.get_name());
        let page = pages
            .into_iter()
            .find(|(n, _)| *n == top)
            .map(|(_, b)| String::from_utf8_lossy(&b).into_owned());
        return Ok(Man {
            written: Vec::new(),
            page,
        });
    };
    fs_err::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in pages {
        let path = dir.join(&name);
        // Only what differs is written, so `changed` says whether a page changed (the
        // old one is read without following a link: a link there is replaced).
        let same = fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file())
            && fs_err::read(&path).is_ok_and(|old| old == bytes);
        if !same {
            crate::fs::write_atomic(&path, &bytes, false)?;
            written.push(path.display().to_string());
        }
    }
    Ok(Man {
        written,
        page: None,
    })
}

/// Every argument of `cmd` and its subcommands that has no help text, as
/// `"kiln promote package"`: the binaries' tests require none.
pub fn args_without_help(cmd: clap::Command) -> Vec<String> {
    fn walk(c: &clap::Command, path: &str, out: &mut Vec<String>) {
        for a in c.get_arguments() {
            let builtin = matches!(a.get_id().as_str(), "help" | "version");
            if a.get_help().is_none() && a.get_long_help().is_none() && !builtin {
                out.push(format!("{path} {}", a.get_id()));
            }
        }
        for s in c.get_subcommands() {
            walk(s, &format!("{path} {}", s.get_name()), out);
        }
    }
    let mut cmd = cmd;
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, cmd.get_name(), &mut out);
    out
}
