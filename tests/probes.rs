//! Every USDT probe the library defines is in the `.note.stapsdt` ELF notes
//! of the shared library, under provider `background`, with a non-zero
//! address (a note left behind by code the linker dropped has address 0).

use std::path::PathBuf;
use std::process::Command;

#[test]
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn every_probe_is_in_the_elf_notes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // target/<profile>/deps/probes-xxxx -> target/<profile>
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let mut build = Command::new(env!("CARGO"));
    build.current_dir(&root).args(["build", "--lib", "--quiet"]);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    assert!(build.status().unwrap().success(), "cargo build --lib failed");
    let out = match Command::new("readelf").arg("-n").arg(dir.join("libbackground.so")).output() {
        Ok(o) => o,
        Err(_) => return eprintln!("readelf not found: skipped"),
    };
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found: Vec<(String, u64)> = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(l) = lines.next() {
        if l == "Provider: background" {
            let name = lines.next().unwrap().trim_start_matches("Name: ").to_string();
            let loc = lines.next().unwrap();
            let addr = loc.trim_start_matches("Location: ").split(',').next().unwrap();
            found.push((name, u64::from_str_radix(addr.trim_start_matches("0x"), 16).unwrap()));
        }
    }
    for probe in ["submit", "start", "end", "steal", "park", "wake", "spare_start", "spare_stop"] {
        assert!(found.iter().any(|(n, _)| n == probe), "probe {probe} missing from {found:?}");
    }
    assert!(found.iter().all(|(_, a)| *a != 0), "a probe note at address 0: {found:?}");
}
