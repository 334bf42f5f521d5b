//! The committed header is what the sources generate.
//!
//! `build.rs` regenerates `include/background.h` on every build; this test
//! fails when that left it different from the version git has staged or
//! committed, i.e. when an API change was made without committing the header.

use std::process::Command;

#[test]
fn committed_header_is_fresh() {
    let root = env!("CARGO_MANIFEST_DIR");
    let inside_git = Command::new("git")
        .args(["-C", root, "rev-parse", "--is-inside-work-tree"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !inside_git {
        eprintln!("not a git checkout: nothing to compare the header with");
        return;
    }
    let out = Command::new("git")
        .args(["-C", root, "diff", "--exit-code", "--stat", "--", "include/background.h"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "include/background.h differs from what git holds: the C API changed; review and commit the header\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn version_macros_match_cargo() {
    let h = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/background.h")).unwrap();
    let get = |name: &str| -> String {
        let line =
            h.lines().find(|l| l.starts_with(&format!("#define {name} "))).unwrap_or_else(|| panic!("{name} missing"));
        line.split_whitespace().nth(2).unwrap().trim_matches('"').to_string()
    };
    assert_eq!(get("BG_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(get("BG_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(get("BG_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(get("BG_VERSION_STRING"), env!("CARGO_PKG_VERSION"));
    let packed: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse::<u32>().unwrap() * 10000
        + env!("CARGO_PKG_VERSION_MINOR").parse::<u32>().unwrap() * 100
        + env!("CARGO_PKG_VERSION_PATCH").parse::<u32>().unwrap();
    assert_eq!(background::capi::version::bg_version_number(), packed);
}
