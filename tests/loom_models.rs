//! Runs the loom model checks (`scripts/loom.sh`) as part of `cargo test`.
//!
//! The models live inside the crate (`src/task/loom_tests.rs`,
//! `src/sleep/loom_tests.rs`) because they drive crate-private protocol
//! code; they only compile with `--cfg loom`, which needs its own build, so
//! this test starts one in a separate target directory (`<target>/loom`).
//! The preemption bound defaults to 2 (loom's documentation: 2 or 3 catches
//! most bugs); set LOOM_MAX_PREEMPTIONS to explore deeper.

use std::path::PathBuf;
use std::process::Command;

/// `<target>` of the build running this test: target/<profile>/deps/<exe>.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

#[test]
fn loom_models_pass() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("sh")
        .arg(format!("{root}/scripts/loom.sh"))
        .env("CARGO", env!("CARGO"))
        .env("CARGO_TARGET_DIR", target_dir().join("loom"))
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("running scripts/loom.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "loom found a failing interleaving (or the model build failed)\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The filter must have selected the models: a run of zero tests proves nothing.
    let passed = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum::<u32>();
    assert!(passed >= 10, "expected the 10 loom models to run, {passed} passed:\n{stdout}");
}
