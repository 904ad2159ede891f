//! `kiln completions SHELL` and `kiln man [--out DIR]`.

use std::path::PathBuf;

use plumbing::docs::Shell;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln completions bash > /etc/bash_completion.d/kiln
  kiln completions zsh > \"${fpath[1]}/_kiln\"
  kiln completions fish > ~/.config/fish/completions/kiln.fish

Exit codes: 0.")]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln man | man -l -              read kiln(1)
  kiln man --out /usr/local/share/man/man1
                                   kiln.1 and a page per command (kiln-build.1, ...)

Exit codes: 0, 3 the directory cannot be written.")]
pub struct ManArgs {
    /// Write every page into DIR instead of printing kiln.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}
