//! The `reconstruct` binary: everything lives in the library; this only
//! hands over the process's arguments and maps the outcome to an exit code.

/// Events are built on reader threads and freed on the main one; the
/// system allocator pays for that hand-over on every event of a busy log.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    reconstruct::run(std::env::args_os())
}
