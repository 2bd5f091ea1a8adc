//! The `blastradius` binary: everything is in the library's `cli` room.

fn main() -> std::process::ExitCode {
    blastradius::cli::main()
}
