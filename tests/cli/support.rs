//! Helpers: run `fph` with a clean environment in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory that `fph` runs in; removed on drop.
/// The formats `fph schema` prints; each is committed as `scenarios/.schema/NAME.json`.
pub const SCHEMAS: [&str; 3] = ["scenario", "config", "cassette"];

pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A directory with a copy of this repository's shipped scenarios and recordings.
    pub fn with_shipped() -> Self {
        let dir = Dir::new();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy_dir(&repo.join("scenarios"), &dir.path().join("scenarios"));
        copy_dir(&repo.join("recordings"), &dir.path().join("recordings"));
        dir
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).expect("read file")
    }

    /// Every file below `sub`, recursively, as (path, contents).
    pub fn files(&self, sub: &str) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.path().join(sub)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let bytes = std::fs::read(&path).expect("read file");
                    out.push((path, bytes));
                }
            }
        }
        out.sort();
        out
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// `fph ARGS` in this directory, with no FREEDOMPAY_* or FPH_* variables inherited.
    pub fn fph(&self) -> Fph {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fph"));
        command.current_dir(self.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("FREEDOMPAY_") || key.starts_with("FPH_") || key == "CI" {
                command.env_remove(key);
            }
        }
        command.env("NO_COLOR", "1");
        Fph { command }
    }
}

/// Copies a directory tree.
/// How many cases the shipped scenarios have: a scenario added or dropped shows here.
pub const SHIPPED_CASES: usize = 29;

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

pub struct Fph {
    command: Command,
}

/// What a run printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Fph {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn arg_path(mut self, path: &Path) -> Self {
        self.command.arg(path);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// The emulator's public demo merchant as the run's credentials (a URL target needs
    /// them from the environment).
    pub fn demo_merchant(self) -> Self {
        self.env("FREEDOMPAY_MERCHANT_ID", "552170")
            .env("FREEDOMPAY_SECRET_KEY", "fph-emulator-demo-secret")
    }

    pub fn spawn(mut self) -> std::process::Child {
        self.command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn fph")
    }

    pub fn run(mut self) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command.output().expect("run fph");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// A standalone `fph emulator --port 0` started by a test; killed on drop.
pub struct EmulatorProcess {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`, from the banner's first line.
    pub url: String,
    /// The rest of the banner and what follows; kept open unless a test drops it.
    pub stdout: Option<std::io::BufReader<std::process::ChildStdout>>,
}

impl Dir {
    /// Starts `fph emulator --port 0` with `args` in this directory and reads its address.
    pub fn emulator(&self, args: &[&str]) -> EmulatorProcess {
        use std::io::BufRead;
        let mut child = self
            .fph()
            .args(["emulator", "--port", "0"])
            .args(args)
            .spawn();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let url = first
            .trim()
            .strip_prefix("fph emulator listening on ")
            .unwrap_or_else(|| panic!("unexpected banner: {first}"))
            .to_owned();
        EmulatorProcess {
            child,
            url,
            stdout: Some(stdout),
        }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// base64 (standard alphabet, padded) without a crate: enough for the secret scans.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `cargo test --offline --test NAME` in a crate `fph init --rust` scaffolded in `dir`, with
/// this checkout's lock file, in one target dir under this checkout's (kept between runs, so
/// freedompay-harness and its dependencies compile once for every such crate), with no
/// FREEDOMPAY_* or FPH_* variable: (passed, stdout, stderr).
pub fn cargo_test_scaffold(dir: &Dir, test: &str) -> (bool, String, String) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(repo.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["test", "--offline", "--test", test])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target.join("scaffold"));
    for (key, _) in std::env::vars() {
        if key.starts_with("FREEDOMPAY_") || key.starts_with("FPH_") {
            command.env_remove(key);
        }
    }
    let output = command.output().expect("run cargo test");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A merchant's crate, with comments that must survive `fph init`'s edit.
pub const MERCHANT_MANIFEST: &str = r#"# The merchant's shop backend.
[package]
name = "shop"   # keep this name
version = "0.1.0"
edition = "2021"

[dependencies]
# none yet

[dev-dependencies]
# test helpers go here

# Line tables only, like this checkout: links fast on a small machine.
[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
"#;
