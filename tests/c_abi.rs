//! Builds every C program under `tests/c/` against the library and runs it.
//!
//! Each program includes `include/background.h`, asserts behaviour and exits
//! 0 on success. Every program is built and run four ways: linked
//! statically, linked dynamically, under AddressSanitizer + UBSan (static),
//! and under valgrind memcheck (dynamic) with zero errors and zero leaks.
//! A file may opt out of a variant with a line `// bg-test: no-asan`,
//! `no-valgrind` or `no-shared` (each with its reason beside it).
//!
//! Set `BG_C_TEST=<name>` to run one program only.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Longest a C test may run (valgrind included) before it counts as hung.
const RUN_LIMIT: Duration = Duration::from_secs(600);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The library directory of the profile these tests were built with.
fn lib_dir() -> PathBuf {
    // target/<profile>/deps/c_abi-xxxx -> target/<profile>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn have(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success())
}

fn build_lib() {
    // `cargo test` builds the rlib for tests; the C programs need the
    // staticlib and cdylib of the same profile.
    let release = lib_dir().ends_with("release");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(root()).args(["build", "--lib", "--quiet"]);
    if release {
        cmd.arg("--release");
    }
    assert!(cmd.status().unwrap().success(), "cargo build --lib failed");
}

fn compile(src: &Path, out: &Path, mode: &str) {
    let lib = lib_dir();
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-pthread"])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(format!("-I{}", root().join("tests/c").display()))
        .arg(src)
        .arg("-o")
        .arg(out);
    match mode {
        "shared" => {
            cmd.arg(format!("-L{}", lib.display())).arg(format!("-Wl,-rpath,{}", lib.display())).arg("-lbackground");
        }
        "asan" => {
            cmd.args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]);
            cmd.arg(lib.join("libbackground.a"));
        }
        _ => {
            cmd.arg(lib.join("libbackground.a"));
        }
    }
    cmd.args(["-ldl", "-lm"]);
    let st = cmd.status().unwrap();
    assert!(st.success(), "compiling {} ({mode}) failed", src.display());
}

fn run(bin: &Path, wrapper: &[&str], name: &str, mode: &str) -> Result<(), String> {
    let mut cmd = if wrapper.is_empty() {
        Command::new(bin)
    } else {
        let mut c = Command::new(wrapper[0]);
        c.args(&wrapper[1..]).arg(bin);
        c
    };
    cmd.env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a hung test goes with every process it forked
        // (one left behind would hold the output pipes open and hang this test).
        .process_group(0);
    let child = cmd.spawn().map_err(|e| format!("{name} ({mode}): {e}"))?;
    let pgid = child.id() as i32;
    let finished = Arc::new((Mutex::new(false), Condvar::new()));
    let watchdog = {
        let finished = Arc::clone(&finished);
        std::thread::spawn(move || {
            let (lock, cv) = &*finished;
            let (done, _) = cv.wait_timeout_while(lock.lock().unwrap(), RUN_LIMIT, |done| !*done).unwrap();
            if !*done {
                // SAFETY: kill() with a process group id; no memory is involved.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
        })
    };
    let out = child.wait_with_output().map_err(|e| format!("{name} ({mode}): {e}"));
    *finished.0.lock().unwrap() = true;
    finished.1.notify_one();
    watchdog.join().unwrap();
    let out = out?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} ({mode}) failed: {}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn c_programs() {
    build_lib();
    let only = std::env::var("BG_C_TEST").ok();
    let out_dir = lib_dir().join("c-tests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut srcs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/c"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    srcs.sort();
    let valgrind = have("valgrind");
    let mut failures = Vec::new();
    let mut failed = Vec::new();
    let mut ran = 0;
    for src in &srcs {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let text = std::fs::read_to_string(src).unwrap();
        let skip = |what: &str| text.lines().any(|l| l.contains("bg-test:") && l.contains(what));
        let mut variants: Vec<(&str, Vec<&str>)> = vec![("static", vec![])];
        if !skip("no-shared") {
            variants.push(("shared", vec![]));
        }
        if !skip("no-asan") {
            variants.push(("asan", vec![]));
        }
        if valgrind && !skip("no-valgrind") {
            variants.push((
                "valgrind",
                vec![
                    "valgrind",
                    "-q",
                    // valgrind runs one thread at a time; its default lock
                    // hand-off starves threads behind a spinning one (the
                    // pause/resize races took 70-140 s and timed out their
                    // 10 s shutdowns). A ticket lock shares it fairly: 2.5 s.
                    "--fair-sched=yes",
                    "--error-exitcode=99",
                    "--leak-check=full",
                    // Only what fails the run is printed: the process-wide
                    // monitor thread's TLS block is "possibly lost" in every
                    // program that exits with it alive, and would bury it.
                    "--show-leak-kinds=definite,indirect",
                    "--errors-for-leak-kinds=definite,indirect",
                ],
            ));
        }
        for (mode, wrapper) in variants {
            let build_mode = if mode == "valgrind" { "shared" } else { mode };
            let bin = out_dir.join(format!("{name}-{build_mode}"));
            compile(src, &bin, build_mode);
            eprintln!("c test {name} ({mode})");
            ran += 1;
            if let Err(e) = run(&bin, &wrapper, &name, mode) {
                failures.push(e);
                failed.push(format!("{name} ({mode})"));
            }
        }
    }
    assert!(ran > 0, "no C test ran");
    // The names come last too: a CI log keeps the tail of a long report.
    assert!(
        failures.is_empty(),
        "{} C test run(s) failed:\n{}\n\nfailed: {}",
        failures.len(),
        failures.join("\n\n"),
        failed.join(", ")
    );
}

/// The header compiles alone under the strictest C99 settings (libgit2's headertest).
#[test]
fn header_is_strict_c99() {
    let out = lib_dir().join("headertest.o");
    let st = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-x", "c"])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(root().join("tests/c/header/headertest.c.in"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "background.h does not compile alone under -std=c99 -pedantic -Werror");
}

/// The cdylib is linked with `-z nodelete` (build.rs), so dlclose() never
/// unmaps code that worker threads or the exit handler still run
/// (tests/c/rel_dlopen.c checks the behaviour).
#[test]
fn cdylib_is_never_unloaded() {
    build_lib();
    let out = Command::new("readelf").arg("-d").arg(lib_dir().join("libbackground.so")).output().unwrap();
    assert!(out.status.success(), "readelf -d failed");
    let dynamic = String::from_utf8_lossy(&out.stdout);
    assert!(
        dynamic.lines().any(|l| l.contains("FLAGS_1") && l.contains("NODELETE")),
        "libbackground.so lacks DF_1_NODELETE:\n{dynamic}"
    );
}

/// The ASan+UBSan variant really is instrumented and its runtime works
/// here: programs built exactly like the C tests' asan variant carry the
/// ASan runtime and fail on a heap overflow, a leak and a signed overflow.
#[test]
fn asan_variant_catches_errors() {
    build_lib();
    let dir = lib_dir().join("c-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "heap_overflow",
            "#include <stdlib.h>\nchar *volatile block;\nint main(int argc, char **argv) {\n (void)argv;\n block = malloc(8);\n char *p = block;\n p[argc + 7] = 1;\n free(p);\n return 0;\n}\n",
            "heap-buffer-overflow",
        ),
        (
            "leak",
            "#include <stdlib.h>\nvoid *volatile keep;\nint main(void) {\n keep = malloc(8);\n keep = 0;\n return 0;\n}\n",
            "detected memory leaks",
        ),
        (
            "signed_overflow",
            "int main(int argc, char **argv) {\n (void)argv;\n int x = 0x7fffffff;\n return x + argc;\n}\n",
            "signed integer overflow",
        ),
    ];
    for (name, src, report) in cases {
        let c = dir.join(format!("asan_probe_{name}.c"));
        std::fs::write(&c, src).unwrap();
        let bin = dir.join(format!("asan_probe_{name}"));
        compile(&c, &bin, "asan");
        let nm = Command::new("nm").arg(&bin).output().unwrap();
        assert!(
            String::from_utf8_lossy(&nm.stdout).contains("__asan_init"),
            "{name}: no ASan runtime in the asan build"
        );
        match run(&bin, &[], name, "asan") {
            Ok(()) => panic!("{name}: the asan build did not catch the error"),
            Err(e) => assert!(e.contains(report), "{name}: expected a report of {report:?}, got:\n{e}"),
        }
    }
}
