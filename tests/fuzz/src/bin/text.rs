//! Fuzz target `text` (see the crate's docs).
fn main() {
    afl::fuzz!(|data: &[u8]| reconstruct_fuzz::run("text", data));
}
