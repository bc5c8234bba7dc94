//! The review workflow, modelled on insta: when an answer no longer matches an expected file,
//! the run can propose the answer as the file's new content, and a human decides later.
//!
//! - The update policy comes from `FPH_UPDATE` (or `fph run --update`): `no` (the default)
//!   writes nothing; `new` writes the proposal as `FILE.new` beside `FILE`; `always`
//!   overwrites `FILE` itself (and drops a `FILE.new` it makes obsolete). The step still
//!   fails in the run that wrote, because the answer did not match; the next run compares
//!   against what was written.
//! - Nothing is ever written or removed when the `CI` environment variable is set (to
//!   anything but empty, `false` or `0`), whatever the policy: the outcome says the update
//!   was skipped and why.
//! - A comparison that passes removes a stale `FILE.new` when the policy is `new` or `always`
//!   (outside CI): it was proposed by an earlier run and no longer describes the answer. Under
//!   `no` a run touches no file, so a stale `FILE.new` stays until `fph review` decides.
//! - Pending files are found by name alone (any `*.new` under the given paths), so the same
//!   review covers expected bodies (`scenarios/**/*.xml.new`) and drifting cassettes
//!   (`recordings/**/*.yaml.new`). Accepting renames `FILE.new` over `FILE` (atomic on one
//!   file system); rejecting deletes `FILE.new`.
//!
//! Writes go through a temporary sibling and a rename, so an interrupted run never leaves half
//! a file. This module decides and reports; it never prints.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::transport::cassette::write_atomically;

/// The environment variable that chooses the update policy when `--update` is not given.
pub const UPDATE_ENV: &str = "FPH_UPDATE";
/// The environment variable CI services set; when it is, nothing is written.
pub const CI_ENV: &str = "CI";
/// What a pending file's name ends with: `init_ok.xml` → `init_ok.xml.new`.
pub const PENDING_SUFFIX: &str = ".new";

/// What to do with an expected file the answer no longer matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum UpdatePolicy {
    /// Write nothing.
    #[default]
    No,
    /// Write the proposal as `FILE.new`, for `fph review`.
    New,
    /// Overwrite `FILE` with the proposal.
    Always,
}

impl UpdatePolicy {
    pub fn parse(text: &str) -> Result<UpdatePolicy, ReviewError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "no" => Ok(UpdatePolicy::No),
            "new" => Ok(UpdatePolicy::New),
            "always" => Ok(UpdatePolicy::Always),
            _ => Err(ReviewError::Policy(text.to_owned())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UpdatePolicy::No => "no",
            UpdatePolicy::New => "new",
            UpdatePolicy::Always => "always",
        }
    }
}

impl fmt::Display for UpdatePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// True when a value of `CI` means "this is CI": set, not empty, not `false` or `0`.
pub fn ci_value_is_set(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| {
        let v = v.to_string_lossy();
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    })
}

/// True when the `CI` environment variable says this is CI.
pub fn ci_is_set() -> bool {
    ci_value_is_set(std::env::var_os(CI_ENV).as_deref())
}

/// The policy with the CI guard applied: what a run may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Updates {
    pub policy: UpdatePolicy,
    /// When true nothing is written, whatever the policy.
    pub ci: bool,
}

impl Updates {
    /// The policy as given, guarded by the `CI` environment variable.
    pub fn new(policy: UpdatePolicy) -> Updates {
        Updates {
            policy,
            ci: ci_is_set(),
        }
    }

    /// `FPH_UPDATE` (unset or empty: `no`) and `CI`.
    pub fn from_env() -> Result<Updates, ReviewError> {
        Updates::from_values(
            std::env::var_os(UPDATE_ENV).as_deref(),
            std::env::var_os(CI_ENV).as_deref(),
        )
    }

    /// [`Updates::from_env`] with the two values given, for callers that read them elsewhere.
    pub fn from_values(update: Option<&OsStr>, ci: Option<&OsStr>) -> Result<Updates, ReviewError> {
        let policy = match update.map(OsStr::to_string_lossy) {
            Some(text) if !text.trim().is_empty() => UpdatePolicy::parse(&text)?,
            _ => UpdatePolicy::No,
        };
        Ok(Updates {
            policy,
            ci: ci_value_is_set(ci),
        })
    }

    /// True when this run may create, overwrite or remove files.
    pub fn may_write(self) -> bool {
        !self.ci && self.policy != UpdatePolicy::No
    }

    /// After a mismatch: offers `proposed` as the new content of `file`, as the policy says.
    pub fn offer(self, file: &Path, proposed: &str) -> UpdateOutcome {
        let pending = pending_path(file);
        let (target, done) = match self.policy {
            UpdatePolicy::No => return UpdateOutcome::NotRequested,
            UpdatePolicy::New => (pending.clone(), UpdateOutcome::Pending(pending.clone())),
            UpdatePolicy::Always => (file.to_owned(), UpdateOutcome::Overwritten(file.to_owned())),
        };
        if self.ci {
            return UpdateOutcome::SkippedInCi(self.policy);
        }
        match write_atomically(&target, proposed.as_bytes()) {
            Ok(()) => {
                if self.policy == UpdatePolicy::Always {
                    // The file now holds the answer; a proposal from an earlier run is
                    // obsolete. One that cannot be removed is harmless: review shows it.
                    let _ = remove_if_present(&pending);
                }
                done
            }
            // The report shows this one line, so the cause goes in it.
            Err(source) => UpdateOutcome::Failed(with_causes(&ReviewError::Write {
                path: target,
                source,
            })),
        }
    }

    /// After a match: removes a stale `file.new` when this run may write. Returns whether one
    /// was removed.
    pub fn matched(self, file: &Path) -> Result<bool, ReviewError> {
        if !self.may_write() {
            return Ok(false);
        }
        let pending = pending_path(file);
        remove_if_present(&pending).map_err(|source| ReviewError::Reject {
            path: pending,
            source,
        })
    }
}

/// What happened to an expected file after a mismatch; its `Display` is the line a failure
/// message ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Policy `no`: nothing written.
    NotRequested,
    /// `CI` is set: nothing written, though the policy asked.
    SkippedInCi(UpdatePolicy),
    /// Policy `new`: the proposal waits in this file.
    Pending(PathBuf),
    /// Policy `always`: this file was overwritten.
    Overwritten(PathBuf),
    /// The write failed (the message says why).
    Failed(String),
}

impl fmt::Display for UpdateOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateOutcome::NotRequested => write!(
                f,
                "to review this answer as the new expected file, run again with {UPDATE_ENV}=new (or `--update new`), then `fph review`"
            ),
            UpdateOutcome::SkippedInCi(policy) => write!(
                f,
                "update skipped: {CI_ENV} is set, so nothing is written ({UPDATE_ENV}={policy} is ignored)"
            ),
            UpdateOutcome::Pending(path) => write!(
                f,
                "wrote {}; accept or reject it with `fph review`",
                path.display()
            ),
            UpdateOutcome::Overwritten(path) => write!(
                f,
                "updated {} ({UPDATE_ENV}=always); the next run compares against it",
                path.display()
            ),
            UpdateOutcome::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Something the review could not do. The message names what failed; the cause is the
/// error's `source()`, printed once by whoever prints the chain (`fph` prints `error: …: cause`).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("failed to read the update policy `{0}`: expected new, always or no")]
    Policy(String),
    #[error("failed to look for pending files in {}", path.display())]
    Walk {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to read {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to write {}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to accept {}", path.display())]
    Accept {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to remove {}", path.display())]
    Reject {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `error` and its causes on one line, `what: why`, as `fph` prints an error.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        line.push_str(&format!(": {error}"));
        cause = error.source();
    }
    line
}

/// `FILE` → `FILE.new`.
pub fn pending_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(PENDING_SUFFIX);
    PathBuf::from(name)
}

/// A proposal waiting for review: `file.new` beside `file`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pending {
    /// The file the proposal would replace (it may not exist yet).
    pub file: PathBuf,
    /// The proposal, `file` + `.new`.
    pub new: PathBuf,
}

impl Pending {
    /// The pending pair for a `*.new` path; `None` when the name does not end in `.new` or
    /// is nothing else.
    pub fn from_new(new: &Path) -> Option<Pending> {
        let name = new.file_name()?.to_str()?;
        let stem = name.strip_suffix(PENDING_SUFFIX)?;
        if stem.is_empty() {
            return None;
        }
        Some(Pending {
            file: new.with_file_name(stem),
            new: new.to_owned(),
        })
    }
}

/// Every pending `*.new` file under `paths`, sorted. A directory is searched recursively
/// (hidden entries and symbolic links to directories are skipped); a file counts when it is
/// a `*.new` file or has one beside it. A path that does not exist is an error.
pub fn find_pending(paths: &[PathBuf]) -> Result<Vec<Pending>, ReviewError> {
    let mut found = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| ReviewError::Walk {
            path: path.clone(),
            source,
        })?;
        if metadata.is_dir() {
            walk(path, &mut found)?;
        } else if let Some(pending) = Pending::from_new(path) {
            found.push(pending);
        } else if pending_path(path).is_file() {
            found.push(Pending {
                file: path.clone(),
                new: pending_path(path),
            });
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<Pending>) -> Result<(), ReviewError> {
    let error = |source| ReviewError::Walk {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        let name = entry.file_name();
        // Hidden entries are version control, editors' files and our own temporary files.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        // `file_type` does not follow links, so a link cycle cannot trap the walk.
        let kind = entry.file_type().map_err(error)?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, found)?;
        } else if let Some(pending) = Pending::from_new(&path) {
            found.push(pending);
        }
    }
    Ok(())
}

/// Accepts a proposal: `file.new` replaces `file`.
pub fn accept(pending: &Pending) -> Result<(), ReviewError> {
    std::fs::rename(&pending.new, &pending.file).map_err(|source| ReviewError::Accept {
        path: pending.new.clone(),
        source,
    })
}

/// Rejects a proposal: `file.new` is deleted, `file` stays as it is.
pub fn reject(pending: &Pending) -> Result<(), ReviewError> {
    std::fs::remove_file(&pending.new).map_err(|source| ReviewError::Reject {
        path: pending.new.clone(),
        source,
    })
}

/// What accepting would change: `file` (empty when it does not exist yet) and `file.new`,
/// as the texts are on disk, with a label for each (reporters show the diff).
pub fn change(pending: &Pending) -> Result<Change, ReviewError> {
    let read = |path: &Path| {
        std::fs::read(path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|source| ReviewError::Read {
                path: path.to_owned(),
                source,
            })
    };
    let old = if pending.file.exists() {
        read(&pending.file)?
    } else {
        String::new()
    };
    let new = read(&pending.new)?;
    let old_label = if pending.file.exists() {
        pending.file.display().to_string()
    } else {
        format!("{} (does not exist yet)", pending.file.display())
    };
    Ok(Change {
        old,
        new,
        labels: (old_label, pending.new.display().to_string()),
    })
}

/// The two texts a pending proposal is between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The current file (empty when it does not exist yet).
    pub old: String,
    /// The proposal.
    pub new: String,
    /// How to name each side.
    pub labels: (String, String),
}

fn remove_if_present(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(text: &str) -> Option<&OsStr> {
        Some(OsStr::new(text))
    }

    #[test]
    fn ci_is_any_value_but_empty_false_or_zero() {
        for value in ["true", "1", "yes", "github-actions", "FALSEY"] {
            assert!(ci_value_is_set(os(value)), "{value}");
        }
        for value in ["", " ", "0", "false", "False", "FALSE"] {
            assert!(!ci_value_is_set(os(value)), "{value:?}");
        }
        assert!(!ci_value_is_set(None));
    }

    #[test]
    fn policy_from_the_environment_values() {
        let updates = |u, c| Updates::from_values(u, c).unwrap();
        assert_eq!(updates(None, None), Updates::default());
        assert_eq!(updates(os(""), None).policy, UpdatePolicy::No);
        assert_eq!(updates(os("NEW"), None).policy, UpdatePolicy::New);
        assert_eq!(updates(os(" always "), None).policy, UpdatePolicy::Always);
        assert!(updates(os("always"), os("true")).ci);
        assert!(!updates(os("always"), os("true")).may_write());
        assert!(!updates(os("no"), None).may_write());
        assert!(updates(os("new"), os("false")).may_write());
        let error = Updates::from_values(os("yes"), None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to read the update policy `yes`: expected new, always or no"
        );
    }

    fn with_file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("body.xml");
        std::fs::write(&file, text).unwrap();
        (dir, file)
    }

    #[test]
    fn new_writes_beside_the_file_and_a_later_match_removes_it() {
        let (_dir, file) = with_file("old\n");
        let updates = Updates {
            policy: UpdatePolicy::New,
            ci: false,
        };
        let outcome = updates.offer(&file, "proposed\n");
        let pending = pending_path(&file);
        assert_eq!(outcome, UpdateOutcome::Pending(pending.clone()));
        assert_eq!(std::fs::read_to_string(&pending).unwrap(), "proposed\n");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old\n");
        assert!(
            outcome
                .to_string()
                .ends_with("accept or reject it with `fph review`")
        );
        // Under `no` a match leaves the stale proposal for review.
        let no = Updates::default();
        assert!(!no.matched(&file).unwrap());
        assert!(pending.exists());
        assert!(updates.matched(&file).unwrap());
        assert!(!pending.exists());
        assert!(!updates.matched(&file).unwrap(), "nothing left to remove");
    }

    #[test]
    fn always_overwrites_and_drops_an_obsolete_proposal() {
        let (_dir, file) = with_file("old\n");
        std::fs::write(pending_path(&file), "earlier\n").unwrap();
        let updates = Updates {
            policy: UpdatePolicy::Always,
            ci: false,
        };
        assert_eq!(
            updates.offer(&file, "proposed\n"),
            UpdateOutcome::Overwritten(file.clone())
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "proposed\n");
        assert!(!pending_path(&file).exists());
    }

    #[test]
    fn nothing_is_written_or_removed_in_ci() {
        let (dir, file) = with_file("old\n");
        for policy in [UpdatePolicy::New, UpdatePolicy::Always] {
            let updates = Updates { policy, ci: true };
            let outcome = updates.offer(&file, "proposed\n");
            assert_eq!(outcome, UpdateOutcome::SkippedInCi(policy));
            assert!(outcome.to_string().contains("CI is set"), "{outcome}");
        }
        std::fs::write(pending_path(&file), "earlier\n").unwrap();
        let updates = Updates {
            policy: UpdatePolicy::New,
            ci: true,
        };
        assert!(!updates.matched(&file).unwrap());
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["body.xml", "body.xml.new"]);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old\n");
        assert_eq!(
            Updates::default().offer(&file, "x"),
            UpdateOutcome::NotRequested
        );
    }

    #[test]
    fn a_failed_write_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the proposal would go cannot be replaced by a file.
        let file = dir.path().join("body.xml");
        std::fs::create_dir(pending_path(&file)).unwrap();
        let outcome = Updates {
            policy: UpdatePolicy::New,
            ci: false,
        }
        .offer(&file, "x");
        let UpdateOutcome::Failed(reason) = outcome else {
            panic!("{outcome:?}");
        };
        assert!(reason.starts_with("failed to write "), "{reason}");
    }

    #[test]
    fn pending_files_are_found_recursively_and_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "scenarios/bodies/a.xml",
            "scenarios/bodies/a.xml.new",
            "scenarios/b.xml.new",
            "scenarios/.hidden/c.xml.new",
            "scenarios/.d.xml.new.1.2.tmp",
            "scenarios/plain.yaml",
            "recordings/s/case.yaml.new",
            "other/.new",
        ] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let found = find_pending(&[root.join("scenarios"), root.join("recordings")]).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| {
                p.new
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "recordings/s/case.yaml.new",
                "scenarios/b.xml.new",
                "scenarios/bodies/a.xml.new"
            ]
        );
        assert_eq!(found[2].file, root.join("scenarios/bodies/a.xml"));
        // A file names its own proposal, or is one.
        let by_file = find_pending(&[
            root.join("scenarios/bodies/a.xml"),
            root.join("scenarios/bodies/a.xml.new"),
            root.join("scenarios/plain.yaml"),
        ])
        .unwrap();
        assert_eq!(by_file.len(), 1);
        assert!(find_pending(&[root.join("other")]).unwrap().is_empty());
        let missing = find_pending(&[root.join("nope")]).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("failed to look for pending files in ")
        );
    }

    #[test]
    fn accept_replaces_reject_deletes_and_diff_shows_the_change() {
        let (dir, file) = with_file("a\nb\n");
        let new = pending_path(&file);
        std::fs::write(&new, "a\nc\n").unwrap();
        let pending = Pending::from_new(&new).unwrap();
        assert_eq!(pending.file, file);
        let diff = change(&pending).unwrap();
        assert_eq!((diff.old.as_str(), diff.new.as_str()), ("a\nb\n", "a\nc\n"));
        assert_eq!(
            diff.labels,
            (file.display().to_string(), new.display().to_string())
        );
        reject(&pending).unwrap();
        assert!(!new.exists());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "a\nb\n");

        std::fs::write(&new, "a\nc\n").unwrap();
        accept(&pending).unwrap();
        assert!(!new.exists());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "a\nc\n");

        // A proposal for a file that does not exist yet diffs against nothing.
        let fresh = Pending::from_new(&dir.path().join("fresh.xml.new")).unwrap();
        std::fs::write(&fresh.new, "x\n").unwrap();
        let diff = change(&fresh).unwrap();
        assert!(diff.labels.0.ends_with("(does not exist yet)"), "{diff:?}");
        assert_eq!((diff.old.as_str(), diff.new.as_str()), ("", "x\n"));
        assert!(reject(&fresh).is_ok() && reject(&fresh).is_err());
    }
}
