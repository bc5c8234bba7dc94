//! The module map's rules, checked: which module may import which (see ARCHITECTURE.md).
//! Data flows one way — scenario → runner → outcome → reporters — and each layer imports
//! only what is below it. A test fails when a module's source names a module it must not
//! (comments aside), so an edge that breaks the layering is caught when it is written.

use std::path::{Path, PathBuf};

/// (module, modules it must not import, why).
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "gateway",
        &["*"],
        "what Freedom Pay is: it knows no other module",
    ),
    (
        "check",
        &[
            "report",
            "runner",
            "review",
            "transport",
            "scenario",
            "drift",
        ],
        "compares XML, renders nothing",
    ),
    (
        "scenario",
        &["runner", "report", "run", "drift", "transport", "emulator"],
        "the model is read, never runs",
    ),
    (
        "template",
        &["runner", "report", "run", "transport", "drift"],
        "renders values, sends nothing",
    ),
    (
        "transport",
        &["runner", "report", "run", "drift", "review"],
        "is given what it sends and writes",
    ),
    (
        "review",
        &["report", "runner", "run"],
        "the update workflow returns texts; reporters show them",
    ),
    (
        "runner",
        &["report", "drift", "run", "harness", "bench"],
        "returns data; reporters render",
    ),
    ("drift", &["runner", "run", "report"], "compares plain data"),
    (
        "emulator",
        &["runner", "report", "run", "scenario", "drift", "harness"],
        "is the gateway, not the harness",
    ),
    (
        "report",
        &["run", "harness", "bench"],
        "renders what it is given",
    ),
    ("run", &["harness", "bench"], "is below the entry points"),
    (
        "proxy",
        &["runner", "report", "run", "drift", "harness", "bench"],
        "records and replays exchanges; runs no scenario",
    ),
];

/// The module names the project has (`crate::<name>`).
const MODULES: &[&str] = &[
    "bench",
    "check",
    "cli",
    "drift",
    "emulator",
    "env",
    "exit_code",
    "gateway",
    "harness",
    "html",
    "proxy",
    "report",
    "review",
    "run",
    "runner",
    "scenario",
    "schema",
    "secret_guard",
    "template",
    "text_file",
    "transport",
    "utc",
    "yaml_mistake",
];

fn sources(module: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let file = src.join(format!("{module}.rs"));
    let mut found = Vec::new();
    let mut stack = vec![src.join(module)];
    if file.exists() {
        found.push(file);
    }
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}

/// Every `crate::<module>` a source names outside comments, with its line.
fn imports(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((number + 1, name));
        }
    }
    found
}

#[test]
fn modules_import_only_what_is_below_them() {
    let mut broken = Vec::new();
    for (module, forbidden, why) in RULES {
        let files = sources(module);
        assert!(!files.is_empty(), "no sources for `{module}`");
        for file in files {
            for (line, name) in imports(&file) {
                let refused = if forbidden == &["*"] {
                    name != *module && MODULES.contains(&name.as_str())
                } else {
                    forbidden.contains(&name.as_str())
                };
                if refused {
                    broken.push(format!(
                        "{}:{line}: `{module}` imports `crate::{name}` ({module} {why})",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "forbidden edges:\n{}", broken.join("\n"));
}

#[test]
fn every_module_is_known_to_the_rules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    let lib = std::fs::read_to_string(src).unwrap();
    // Public or not, every module of lib.rs is in MODULES and every name in MODULES is a
    // module (the test-only ones, `architecture` and `properties`, are plain `mod`).
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|line| {
            line.strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .and_then(|n| n.strip_suffix(';'))
        })
        .collect();
    for name in &declared {
        assert!(
            MODULES.contains(name),
            "src/lib.rs has `{name}`: add it to MODULES"
        );
    }
    for name in MODULES {
        assert!(
            declared.contains(name),
            "MODULES has `{name}`, which src/lib.rs does not declare"
        );
    }
}
