//! `blastradius import fis` (issue 17: FIS template -> scenario). Owned by the engineer of that issue.

use super::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: &Args) -> Exit {
    eprintln!("error: `import fis` is not built yet");
    Exit::Internal
}
