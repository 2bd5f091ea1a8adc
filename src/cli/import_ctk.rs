//! `blastradius import ctk` (issue 16: Chaos Toolkit experiment -> scenario). Owned by the engineer of that issue.

use super::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: &Args) -> Exit {
    eprintln!("error: `import ctk` is not built yet");
    Exit::Internal
}
