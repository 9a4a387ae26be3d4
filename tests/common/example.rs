//! The demos that `cargo test` builds (`target/<profile>/examples/`, next
//! to the tests' `deps/` directory), for the tests that run them as
//! processes (`tests/fleet.rs`, `tests/demo_flow.rs`).

use std::path::{Path, PathBuf};

/// The built example `name` (`examples/<name>.rs`); a warning if it is
/// older than its source.
pub(crate) fn built_example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let binary = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "the {name} demo is not built at {}: run `cargo test --all-features` (which builds it) \
         or `cargo build --example {name} --all-features` first",
        binary.display()
    );
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if modified(&binary) < modified(&source) {
        eprintln!(
            "warning: {} is older than examples/{name}.rs; `cargo test --all-features` rebuilds it",
            binary.display()
        );
    }
    binary
}
