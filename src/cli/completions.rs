//! `blastradius completions SHELL` (clap_complete) and `blastradius man` (clap_mangen): both
//! generated from the clap definitions, so they never fall behind the commands.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Exit, write_stdout};

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
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

pub fn man() -> Exit {
    emit(man_page())
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
