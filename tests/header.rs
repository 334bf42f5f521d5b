//! The committed header is what the sources generate.
//!
//! `build.rs` generates the header into `OUT_DIR` only; `include/background.h`
//! is committed, the reference C users and the bindings compile against. This
//! test fails when the two differ, i.e. when the C API changed without the
//! header being refreshed (rustls-ffi's check). Refresh it with `make header`
//! (`BG_BLESS=1 cargo test --test header`), review the diff and commit it.

use std::path::Path;

#[test]
fn committed_header_matches_the_sources() {
    let generated = std::fs::read_to_string(env!("BG_GENERATED_HEADER")).expect("build.rs generated the header");
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/background.h");
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    if generated == committed {
        return;
    }
    if std::env::var_os("BG_BLESS").is_some() {
        std::fs::write(&committed_path, &generated).unwrap();
        eprintln!("refreshed {}", committed_path.display());
        return;
    }
    let first = generated.lines().zip(committed.lines()).position(|(g, c)| g != c);
    let line = first.unwrap_or_else(|| generated.lines().count().min(committed.lines().count()));
    panic!(
        "include/background.h is stale: it differs from what src/capi generates (first at line {}).\n\
         Refresh it with `make header` (or `BG_BLESS=1 cargo test --test header`), review the diff, commit it.\n\
         generated: {:?}\n committed: {:?}",
        line + 1,
        generated.lines().nth(line).unwrap_or("<end>"),
        committed.lines().nth(line).unwrap_or("<end>"),
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
