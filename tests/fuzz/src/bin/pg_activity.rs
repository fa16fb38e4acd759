//! Fuzz target `pg_activity` (see the crate's docs).
fn main() {
    afl::fuzz!(|data: &[u8]| reconstruct_fuzz::run("pg_activity", data));
}
