//! Build script: embeds the dashboard's browser files into the binary and records the git commit.
//!
//! The files come from `make site` (`target/site/pkg`, or `$S3P_SITE_DIR/pkg`): the wasm, js and
//! css, each with its `.br` and `.gz` beside it (those two are embedded; the plain file is only
//! hashed, and decoded from `.gz` when a client asks for it). They are served under one content-hashed name
//! (`s3-prune-<hash>`), so a browser may cache them forever. Without them the build stops with
//! what to run, rather than making a binary whose dashboard is missing.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The bundle as wasm-bindgen names it, and how each file is served.
const FILES: [(&str, &str, &str); 3] = [
    ("s3-prune.js", ".js", "text/javascript"),
    ("s3-prune_bg.wasm", "_bg.wasm", "application/wasm"),
    ("s3-prune.css", ".css", "text/css"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-env-changed=S3P_SITE_DIR");
    println!("cargo:rerun-if-env-changed=S3P_GIT_COMMIT");
    let site = std::env::var_os("S3P_SITE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../target/site"));
    embed_site(&site.join("pkg"));
    println!("cargo:rustc-env=S3P_GIT_COMMIT={}", git_commit(&manifest));
}

fn embed_site(pkg: &Path) {
    let mut hash = Sha256::new();
    let mut missing = Vec::new();
    for (name, _, _) in FILES {
        for suffix in ["", ".br", ".gz"] {
            let path = pkg.join(format!("{name}{suffix}"));
            println!("cargo:rerun-if-changed={}", path.display());
            match std::fs::read(&path) {
                Ok(bytes) if suffix.is_empty() => hash.update(&bytes),
                Ok(_) => {}
                Err(_) => missing.push(format!("{name}{suffix}")),
            }
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "\nerror: the dashboard's browser files are not built, so they cannot be embedded.\n\
             Missing in {}: {}\n\
             Run `make site` in the repository first (`make setup` installs the tools it needs),\n\
             then build again (e.g. `cargo install --locked --path server`).\n\
             Or set S3P_SITE_DIR to a directory holding pkg/ from a `make site`.\n",
            pkg.display(),
            missing.join(", ")
        );
        std::process::exit(1);
    }
    let digest = hash.finalize();
    let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let bundle = format!("s3-prune-{short}");
    let mut code = String::new();
    writeln!(code, "/// The bundle's content-hashed name.").unwrap();
    writeln!(code, "pub const BUNDLE: &str = {bundle:?};").unwrap();
    writeln!(code, "pub static ASSETS: [Asset; {}] = [", FILES.len()).unwrap();
    for (name, served, content_type) in FILES {
        let path = |suffix: &str| pkg.join(format!("{name}{suffix}")).display().to_string();
        writeln!(
            code,
            "    Asset {{ name: {:?}, content_type: {content_type:?}, br: include_bytes!({:?}), gzip: include_bytes!({:?}), plain: std::sync::OnceLock::new() }},",
            format!("{bundle}{served}"),
            path(".br"),
            path(".gz"),
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("site.rs");
    std::fs::write(out, code).unwrap();
}

/// The commit the binary is built from: `S3P_GIT_COMMIT`, else `git`, else "unknown".
fn git_commit(manifest: &Path) -> String {
    if let Ok(c) = std::env::var("S3P_GIT_COMMIT") {
        return c;
    }
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(manifest)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    // Rebuild when HEAD moves (a commit or a checkout).
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            // A ref may live in packed-refs only; a path that does not exist would rerun
            // this script on every build.
            let loose = Path::new(&dir).join(&head);
            let watched = if loose.exists() {
                loose
            } else {
                Path::new(&dir).join("packed-refs")
            };
            if watched.exists() {
                println!("cargo:rerun-if-changed={}", watched.display());
            }
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into())
}
