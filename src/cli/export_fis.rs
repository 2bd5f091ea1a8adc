//! `blastradius export fis` (issue 17: scenario -> FIS template). Owned by the engineer of that issue.

use super::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: &Args) -> Exit {
    eprintln!("error: `export fis` is not built yet");
    Exit::Internal
}
