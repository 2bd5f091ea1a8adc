//! `blastradius export ctk` (issue 16: scenario -> Chaos Toolkit experiment). Owned by the engineer of that issue.

use super::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: &Args) -> Exit {
    eprintln!("error: `export ctk` is not built yet");
    Exit::Internal
}
