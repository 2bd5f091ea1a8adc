//! `blastradius import traces` (issue 18: traces -> model). Owned by the engineer of that issue.

use super::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: &Args) -> Exit {
    eprintln!("error: `import traces` is not built yet");
    Exit::Internal
}
