//! Helpers: run `fph` with a clean environment in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory that `fph` runs in; removed on drop.
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
