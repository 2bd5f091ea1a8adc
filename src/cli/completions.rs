//! `blastradius completions SHELL` (clap_complete) and `blastradius man` (clap_mangen): both
//! generated from the clap definitions, so they never fall behind the commands.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Exit, write_stdout};

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write `blastradius.1` and a page per subcommand (`blastradius-run.1`, ...) into this
    /// directory instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The completion script for `shell`.
pub fn completion_script(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "blastradius", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page, in roff.
pub fn man_page() -> Result<String, std::io::Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub fn completions(args: &CompletionsArgs) -> Exit {
    emit(Ok(completion_script(args.shell)))
}

pub fn man(args: &ManArgs) -> Exit {
    let Some(dir) = &args.out else {
        return emit(man_page());
    };
    let written =
        std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Cli::command(), dir));
    match written {
        Ok(()) => {
            eprintln!("wrote the man pages into {}", dir.display());
            Exit::Success
        }
        Err(error) => {
            eprintln!("error: writing man pages into {}: {error}", dir.display());
            Exit::Internal
        }
    }
}

fn emit(text: Result<String, std::io::Error>) -> Exit {
    match text.and_then(|text| write_stdout(&text)) {
        Ok(()) => Exit::Success,
        Err(error) => {
            eprintln!("error: {error}");
            Exit::Internal
        }
    }
}
