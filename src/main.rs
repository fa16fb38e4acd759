//! The `reconstruct` binary: everything lives in the library; this only
//! hands over the process's arguments and maps the outcome to an exit code.

fn main() -> std::process::ExitCode {
    reconstruct::run(std::env::args_os())
}
