//! The layers form a tree (see the map in src/lib.rs): no core module may
//! name the composition layer or the C ABI.

use std::path::Path;

#[test]
fn core_imports_neither_compose_nor_capi() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut checked = 0;
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                // The upper layers themselves.
                if rel != "compose" && rel != "capi" {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || rel == "lib.rs" {
                continue;
            }
            checked += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if code.contains("crate::compose") || code.contains("crate::capi") {
                    offenders.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(checked >= 10, "found only {checked} core files under src/");
    assert!(offenders.is_empty(), "core modules import an upper layer:\n{}", offenders.join("\n"));
}
