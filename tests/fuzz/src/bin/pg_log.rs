//! Fuzz target `pg_log` (see the crate's docs).
fn main() {
    afl::fuzz!(|data: &[u8]| reconstruct_fuzz::run("pg_log", data));
}
