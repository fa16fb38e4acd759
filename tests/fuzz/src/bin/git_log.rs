//! Fuzz target `git_log` (see the crate's docs).
fn main() {
    afl::fuzz!(|data: &[u8]| reconstruct_fuzz::run("git_log", data));
}
