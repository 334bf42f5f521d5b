//! Generates the C header from the C ABI in `src/capi/` with cbindgen, into
//! `OUT_DIR` only: a build never writes into the source tree (which may be
//! read-only, as in a registry checkout).
//!
//! The committed `include/background.h` is the reference a C user reads.
//! `tests/header.rs` fails when it differs from what the sources generate
//! here, and `make header` refreshes it.

use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        // Threads running our code must never outlive the mapping of our code: a
        // dlclose() without bg_shutdown() would unmap it under running workers.
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
        // The SONAME follows the ABI: while 0.x every minor release may break
        // it (libbackground.so.0.1); from 1.0 on, the major (libbackground.so.1).
        let soname = soname();
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
        // Programs linked against target/<profile>/libbackground.so look for
        // the SONAME at run time: give them the link beside it.
        if let Some(profile_dir) = PathBuf::from(env::var("OUT_DIR").unwrap()).ancestors().nth(3) {
            let link = profile_dir.join(&soname);
            let _ = fs::remove_file(&link);
            #[cfg(unix)]
            let _ = std::os::unix::fs::symlink("libbackground.so", &link);
        }
    }

    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // The version macros come from Cargo.toml, so header and library agree.
    let v = |k: &str| env::var(k).unwrap();
    let macros = format!(
        "/** Version of this header; compare with bg_version_number() to detect a mismatched library. */\n\
         #define BG_VERSION_MAJOR {}\n#define BG_VERSION_MINOR {}\n#define BG_VERSION_PATCH {}\n\
         #define BG_VERSION_STRING \"{}\"\n\
         /** Packed version: major * 10000 + minor * 100 + patch. */\n\
         #define BG_VERSION_NUMBER (BG_VERSION_MAJOR * 10000 + BG_VERSION_MINOR * 100 + BG_VERSION_PATCH)\n",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION")
    );
    config.after_includes = config.after_includes.map(|s| s.replace("@VERSION_MACROS@", &macros));
    let header = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate background.h");

    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("background.h");
    header.write_to_file(&out);
    // For tests/header.rs, which compares it with the committed header.
    println!("cargo:rustc-env=BG_GENERATED_HEADER={}", out.display());
    println!("cargo:include={}", dir.join("include").display());
}

/// `libbackground.so.0.<minor>` while the major version is 0, else `libbackground.so.<major>`.
fn soname() -> String {
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    if major == "0" {
        format!("libbackground.so.0.{minor}")
    } else {
        format!("libbackground.so.{major}")
    }
}
