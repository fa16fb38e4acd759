//! The one fuzz binary: `RECONSTRUCT_FUZZ_TARGET` names which target of the
//! crate it runs. One binary rather than one per target, because each would
//! link the whole tool with AFL's instrumentation: twelve links cost CI
//! minutes and gigabytes for no extra coverage.
fn main() {
    let target = std::env::var("RECONSTRUCT_FUZZ_TARGET").unwrap_or_default();
    if !reconstruct_fuzz::TARGETS.contains(&target.as_str()) {
        eprintln!(
            "RECONSTRUCT_FUZZ_TARGET must name a target: {}",
            reconstruct_fuzz::TARGETS.join(", ")
        );
        std::process::exit(2);
    }
    afl::fuzz!(|data: &[u8]| reconstruct_fuzz::run(&target, data));
}
