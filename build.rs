//! Embeds `scripts/*.rhai` and `stdlib/*.rhai` into the binary, so an installed `vline` carries its
//! procedures and stdlib with it.

use std::fs;
use std::path::Path;

fn list(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    println!("cargo:rerun-if-changed={}", root.display());
    if let Ok(entries) = fs::read_dir(&root) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) == Some("rhai") {
                println!("cargo:rerun-if-changed={}", p.display());
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                out.push((stem, p.display().to_string()));
            }
        }
    }
    out.sort();
    out
}

fn main() {
    let mut src = String::new();
    for (name, dir) in [("SCRIPTS", "scripts"), ("STDLIB", "stdlib")] {
        src += &format!("pub const {name}: &[(&str, &str)] = &[\n");
        for (stem, path) in list(dir) {
            src += &format!("    ({stem:?}, include_str!({path:?})),\n");
        }
        src += "];\n";
    }
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("bundle.rs");
    fs::write(out, src).unwrap();
}
