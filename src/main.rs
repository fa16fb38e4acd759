//! The `reconstruct` binary: everything lives in the library; this only
//! hands over the process's arguments and maps the outcome to an exit code.

/// Events are built on reader threads and freed on the main one; the
/// system allocator pays for that hand-over on every event of a busy log.
/// It also stands in for `malloc` (the `override` feature), so libgit2's
/// many small objects of a walk are not paid for in the C library's locks.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // The allocator's regions are aligned for huge pages, and where the
    // system gives them to every mapping (`always`), each first touch
    // clears two megabytes: a small run spent a third of its time there,
    // with twice the memory. Pages of the ordinary size cost no more on a
    // big scan. Refused or unknown, nothing changes but the cost.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    reconstruct::run(std::env::args_os())
}
