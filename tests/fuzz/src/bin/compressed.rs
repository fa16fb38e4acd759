//! Fuzz target `compressed` (see the crate's docs).
fn main() {
    afl::fuzz!(|data: &[u8]| reconstruct_fuzz::run("compressed", data));
}
