//! Installing: `make install` into a temporary prefix, then building and
//! running programs against the installed copy the ways users do: cc with
//! pkg-config (shared and static), CMake `find_package`, and the Go binding
//! with its installed-library build tag. Also checks that the static link
//! line the README and the .pc file give is what rustc says it needs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn install(prefix: &Path) {
    let _ = std::fs::remove_dir_all(prefix);
    run(Command::new("make").current_dir(root()).arg("install").arg(format!("PREFIX={}", prefix.display())));
}

fn makefile_var(name: &str) -> String {
    let mk = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let line =
        mk.lines().find(|l| l.starts_with(&format!("{name} :="))).unwrap_or_else(|| panic!("{name} in Makefile"));
    line.split_once(":=").unwrap().1.trim().to_string()
}

#[test]
fn static_link_line_is_what_rustc_needs() {
    let out = Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "rustc",
            "--release",
            "--lib",
            "--crate-type",
            "staticlib",
            "--quiet",
            "--",
            "--print",
            "native-static-libs",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().find_map(|l| l.split_once("native-static-libs: ")).expect("rustc printed the libs").1;
    let want: Vec<&str> = line.split_whitespace().filter(|l| *l != "-lc").collect();
    assert_eq!(makefile_var("LIBS_PRIVATE").split_whitespace().collect::<Vec<_>>(), want, "Makefile LIBS_PRIVATE");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let printed = format!("libbackground.a {}", want.join(" "));
    assert!(readme.contains(&printed), "README must print the static link line `{printed}`");
}

#[test]
fn installed_library_builds_with_pkg_config_and_cmake() {
    let prefix = std::env::temp_dir().join(format!("bg-install-{}", std::process::id()));
    install(&prefix);
    let lib = prefix.join("lib");
    let version = env!("CARGO_PKG_VERSION");
    for f in ["libbackground.a", "libbackground.so", &format!("libbackground.so.{version}")] {
        assert!(lib.join(f).exists(), "{f} installed");
    }
    let soname = run(Command::new("readelf").arg("-d").arg(lib.join(format!("libbackground.so.{version}"))));
    assert!(soname.contains(&format!("[libbackground.so.0.{}]", env!("CARGO_PKG_VERSION_MINOR"))), "{soname}");
    assert!(prefix.join("include/background.h").exists());

    let pc_path = lib.join("pkgconfig");
    let pkg =
        |args: &[&str]| run(Command::new("pkg-config").env("PKG_CONFIG_PATH", &pc_path).args(args)).trim().to_string();
    assert_eq!(pkg(&["--modversion", "background"]), version);
    let demo = root().join("examples/demo.c");
    let out = std::env::temp_dir().join(format!("bg-pc-demo-{}", std::process::id()));

    // Shared, through pkg-config.
    let flags = pkg(&["--cflags", "--libs", "background"]);
    run(Command::new("sh").arg("-c").arg(format!(
        "cc -std=c11 -D_GNU_SOURCE {} -o {} {flags} -Wl,-rpath,{}",
        demo.display(),
        out.display(),
        lib.display()
    )));
    let text = run(&mut Command::new(&out));
    assert!(text.contains("default pool: success"), "{text}");
    let needed = run(Command::new("readelf").arg("-d").arg(&out));
    assert!(needed.contains("libbackground.so.0."), "linked against the SONAME: {needed}");

    // Static, through pkg-config --static (Libs.private).
    let cflags = pkg(&["--cflags", "background"]);
    let libs = pkg(&["--static", "--libs-only-other", "--libs-only-l", "background"]).replace("-lbackground", "");
    run(Command::new("sh").arg("-c").arg(format!(
        "cc -std=c11 -D_GNU_SOURCE {cflags} {} -o {}-static {}/libbackground.a {libs}",
        demo.display(),
        out.display(),
        lib.display()
    )));
    let text = run(&mut Command::new(format!("{}-static", out.display())));
    assert!(text.contains("default pool: success"), "{text}");

    // CMake find_package: the C library shared and static, and the C++ target.
    let build = std::env::temp_dir().join(format!("bg-cmake-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&build);
    let cpp = root().join("examples/cpp/install_consumer.cpp");
    let mut cfg = Command::new("cmake");
    cfg.arg("-S")
        .arg(root().join("tests/packaging/cmake"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg(format!("-DDEMO_SOURCE={}", demo.display()));
    if cpp.exists() {
        cfg.arg(format!("-DCPP_SOURCE={}", cpp.display()));
    }
    run(&mut cfg);
    run(Command::new("cmake").arg("--build").arg(&build));
    for exe in ["demo_shared", "demo_static"] {
        let text = run(&mut Command::new(build.join(exe)));
        assert!(text.contains("default pool: success"), "{exe}: {text}");
    }
    if cpp.exists() {
        run(&mut Command::new(build.join("cpp_consumer")));
    }
    let _ = std::fs::remove_dir_all(&build);
    let _ = std::fs::remove_dir_all(&prefix);
}
