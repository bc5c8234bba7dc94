//! The cassette: one recorded case on disk, at `recordings/<scenario file stem>/<case>.yaml`.
//!
//! Format version 1, human-readable so a pull request shows what the gateway answered:
//!
//! ```yaml
//! format: 1
//! scenario: kcell_sms_approval
//! case: operator=KCELLKZT
//! recorded_at: 2026-11-23T10:00:00Z
//! target: emulator
//! harness: 0.1.0
//! scenario_digest: 5f1c…            # the case as it was recorded; a change makes it stale
//! bindings:                          # every generated value, returned again on replay
//!   order_id.1: ord-7f3a9c
//! interactions:
//! - step: init                       # keyed by step id and attempt, never by order or hash
//!   attempt: 1
//!   request:
//!     method: POST
//!     encoding: multipart            # how the fields went on the wire; replay checks it
//!     path: /init_payment.php
//!     fields:                        # parsed form fields in wire form, never a raw body
//!       pg_amount: "150.00"
//!       pg_merchant_id: "{{merchant_id}}"
//!   response:
//!     status: 200
//!     content_type: text/xml; charset=UTF-8
//!     elapsed_ms: 3
//!     body: |
//!       <?xml version="1.0" encoding="utf-8"?>
//!       <response>…</response>
//! - step: paid                       # a `wait: result_callback` step
//!   attempt: 1
//!   direction: incoming              # the gateway called the merchant's result URL
//!   request:
//!     method: POST
//!     encoding: urlencoded
//!     path: result                   # the URL's last segment: the script it is signed for
//!     fields: { pg_result: "1", pg_sig: … }
//!   response:                        # the scenario's reply, signed for the same script
//!     status: 200
//!     …
//! ```
//!
//! When the scenarios directory has the cassette's JSON Schema (`fph init` writes
//! `.schema/cassette.json`), the file starts with a `# yaml-language-server: $schema=…` line
//! pointing at it, relative to the cassette, for editors ([`schema_modeline`]).
//!
//! Signatures in a cassette are made with the public replay key, never the merchant secret;
//! redacted values appear as `{{name}}` placeholders. Files are written to a temporary file
//! beside the target and renamed into place, so an interrupted write leaves the old one.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{MapAccess, Visitor};

use crate::gateway::{Document, Encoding, SecretKey, signature};

use super::Direction;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The cassette format this harness reads and writes.
pub const FORMAT: u32 = 1;

/// Where a project's JSON Schemas live, beside its scenarios (`fph init` writes them there).
pub const SCHEMA_DIR: &str = ".schema";
/// The cassette's schema file in [`SCHEMA_DIR`].
pub const SCHEMA_FILE: &str = "cassette.json";

/// The first line of a cassette recorded for a scenario in `scenarios_dir`, when that
/// directory has the cassette schema (`fph init` wrote it): the YAML language server's
/// modeline, with the schema's path relative to the cassette, so an editor checks the
/// recording as it does the scenario. `None` when there is no schema to point at.
pub fn schema_modeline(cassette: &Path, scenarios_dir: &Path) -> Option<String> {
    let schema = scenarios_dir.join(SCHEMA_DIR).join(SCHEMA_FILE);
    if !schema.is_file() {
        return None;
    }
    let from = std::path::absolute(cassette.parent()?).ok()?;
    let to = std::path::absolute(&schema).ok()?;
    let relative = relative_path(&from, &to)?;
    // The language server reads the path as a URI reference: forward slashes everywhere.
    let relative: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(format!(
        "# yaml-language-server: $schema={}\n",
        relative.join("/")
    ))
}

/// `to` as seen from the directory `from` (both absolute, `..` only where they part);
/// `None` when they share no root (two Windows drives).
fn relative_path(from: &Path, to: &Path) -> Option<PathBuf> {
    use std::path::Component;
    // Lexically: `absolute` keeps `..` and `.`; drop `.` and fold `..` into its parent.
    fn normal(path: &Path) -> Vec<Component<'_>> {
        let mut parts: Vec<Component> = Vec::new();
        for part in path.components() {
            match part {
                Component::CurDir => {}
                Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                    parts.pop();
                }
                part => parts.push(part),
            }
        }
        parts
    }
    let (from, to) = (normal(from), normal(to));
    if from.first() != to.first() {
        return None;
    }
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for part in &to[common..] {
        relative.push(part);
    }
    Some(relative)
}

/// One recorded case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Cassette {
    #[cfg_attr(feature = "cli", schemars(with = "crate::schema::CassetteFormat"))]
    pub format: u32,
    pub scenario: String,
    pub case: String,
    pub recorded_at: String,
    pub target: String,
    pub harness: String,
    pub scenario_digest: String,
    #[serde(default)]
    pub bindings: OrderedMap,
    pub interactions: Vec<Interaction>,
}

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    pub step: String,
    pub attempt: u32,
    /// `incoming`: a callback the gateway sent to the case's URL (`request`) and the reply
    /// the scenario gave (`response`); left out for the harness's own calls.
    #[serde(default, skip_serializing_if = "Direction::is_outgoing")]
    pub direction: Direction,
    pub request: RecordedRequest,
    pub response: RecordedResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    pub method: String,
    /// Cassettes written before encodings existed were all multipart.
    #[serde(default)]
    pub encoding: Encoding,
    pub path: String,
    pub fields: OrderedMap,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub elapsed_ms: u64,
    /// The body verbatim (only `pg_sig` re-signed and redacted values replaced).
    #[serde(serialize_with = "literal_block")]
    pub body: String,
}

/// A YAML mapping that keeps its order and refuses duplicate keys: form fields and bindings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderedMap(pub Vec<(String, String)>);

impl OrderedMap {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl Serialize for OrderedMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedMapVisitor;
        impl<'de> Visitor<'de> for OrderedMapVisitor {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of names to text values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<OrderedMap, A::Error> {
                let mut entries: Vec<(String, String)> = Vec::new();
                while let Some((k, v)) = access.next_entry::<String, String>()? {
                    if entries.iter().any(|(seen, _)| *seen == k) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                    }
                    entries.push((k, v));
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(OrderedMapVisitor)
    }
}

fn literal_block<S: Serializer>(body: &str, serializer: S) -> Result<S::Ok, S::Error> {
    // A `|` block keeps an XML body readable and exact; the serializer falls back to a quoted
    // scalar for text a block cannot hold (carriage returns, trailing spaces).
    serde_saphyr::LitStr(body).serialize(serializer)
}

/// A cassette that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CassetteError {
    #[error("failed to read cassette {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("failed to read cassette {path}:{line}:{column}: {reason}")]
    Syntax {
        path: PathBuf,
        line: u64,
        column: u64,
        reason: String,
    },
    #[error(
        "failed to read cassette {path}: format {found} is not the format this fph reads ({FORMAT}); re-record it with `fph run --mode record`"
    )]
    Format { path: PathBuf, found: u32 },
    #[error("failed to write cassette {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

impl Cassette {
    /// Where the cassette of a case lives below `recordings`.
    pub fn path_for(recordings: &Path, scenario_stem: &str, case: &str) -> PathBuf {
        recordings
            .join(scenario_stem)
            .join(format!("{}.yaml", file_name_for(case)))
    }

    /// The recorded interaction for a step's attempt.
    pub fn interaction(&self, step: &str, attempt: u32) -> Option<&Interaction> {
        self.interactions
            .iter()
            .find(|i| i.step == step && i.attempt == attempt)
    }

    /// Reads and checks a cassette file.
    pub fn load(path: &Path) -> Result<Cassette, CassetteError> {
        let text = crate::text_file::read(path).map_err(|e| {
            if e.line > 0 {
                CassetteError::Syntax {
                    path: path.to_owned(),
                    line: e.line as u64,
                    column: e.column as u64,
                    reason: e.reason,
                }
            } else {
                CassetteError::Io {
                    path: path.to_owned(),
                    reason: e.reason,
                }
            }
        })?;
        Cassette::parse(&text, path)
    }

    /// Parses cassette text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Cassette, CassetteError> {
        /// Read first, leniently, so a newer format gets a "re-record" message instead of a
        /// complaint about whatever key it added.
        #[derive(Deserialize)]
        struct Header {
            format: Option<u32>,
        }
        let syntax = |e: serde_saphyr::Error| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            CassetteError::Syntax {
                path: path.to_owned(),
                line,
                column,
                reason: e.without_snippet().to_string(),
            }
        };
        // One full parse in the usual case. Parsing is most of what a replay costs, so the
        // lenient header is read only after a failure, to tell a cassette of another format
        // (or no cassette at all) from a broken one — the same answers as reading it first.
        let error = match serde_saphyr::from_str::<Cassette>(text) {
            Ok(cassette) if cassette.format == FORMAT => {
                return match recorded_at_problem(&cassette.recorded_at) {
                    None => Ok(cassette),
                    Some(reason) => {
                        // Top-level keys start their line; the key is required, so it is there.
                        let line = text
                            .lines()
                            .position(|l| l.starts_with("recorded_at:"))
                            .map_or(1, |i| i + 1);
                        Err(CassetteError::Syntax {
                            path: path.to_owned(),
                            line: line as u64,
                            column: "recorded_at: ".len() as u64 + 1,
                            reason,
                        })
                    }
                };
            }
            Ok(cassette) => {
                return Err(CassetteError::Format {
                    path: path.to_owned(),
                    found: cassette.format,
                });
            }
            Err(error) => error,
        };
        let header: Header = serde_saphyr::from_str(text).map_err(syntax)?;
        match header.format {
            Some(FORMAT) => Err(syntax(error)),
            Some(found) => Err(CassetteError::Format {
                path: path.to_owned(),
                found,
            }),
            None => Err(CassetteError::Syntax {
                path: path.to_owned(),
                line: 1,
                column: 1,
                reason: "missing `format: 1`: this does not look like an fph cassette".into(),
            }),
        }
    }

    /// The cassette as YAML text.
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_saphyr::to_string(self).map_err(|e| e.to_string())
    }

    /// The file at `path` for a scenario in `scenarios_dir`: the YAML, after the
    /// [`schema_modeline`] when that directory has the cassette schema.
    pub fn file_text(&self, path: &Path, scenarios_dir: &Path) -> Result<String, String> {
        let yaml = self.to_yaml()?;
        Ok(match schema_modeline(path, scenarios_dir) {
            Some(modeline) => modeline + &yaml,
            None => yaml,
        })
    }

    /// Writes [`Cassette::file_text`] atomically: a temporary file in the same directory,
    /// flushed, then renamed over the old cassette. A crash at any point leaves either the
    /// old file or the new one.
    pub fn save(&self, path: &Path, scenarios_dir: &Path) -> Result<(), CassetteError> {
        let write_error = |reason: String| CassetteError::Write {
            path: path.to_owned(),
            reason,
        };
        let text = self.file_text(path, scenarios_dir).map_err(write_error)?;
        write_atomically(path, text.as_bytes()).map_err(|e| write_error(e.to_string()))
    }
}

/// How far ahead of this machine's clock a recording time may be (another machine's clock).
const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Why `recorded_at` cannot be used for the age check (`cassette_max_age`): not a UTC
/// timestamp, or later than now. Either would silently skip the check.
fn recorded_at_problem(recorded_at: &str) -> Option<String> {
    let Some(time) = crate::utc::parse_timestamp(recorded_at) else {
        return Some(format!(
            "recorded_at `{recorded_at}` is not a UTC timestamp like 2026-11-23T10:00:00Z; re-record the cassette"
        ));
    };
    let now = std::time::SystemTime::now();
    (time > now + CLOCK_SKEW)
        .then(|| format!("recorded_at `{recorded_at}` is in the future; re-record the cassette"))
}

/// The body with its `pg_sig` element recomputed with `key` (over the body's own fields,
/// for the request's script); a body without one, or that is not XML, is returned as is.
pub fn resign_body(body: &str, script: &str, key: &SecretKey) -> String {
    let Ok(document) = Document::parse_response_str(body) else {
        return body.to_owned();
    };
    let (Some(start), Some(end)) = (body.find("<pg_sig>"), body.find("</pg_sig>")) else {
        return body.to_owned();
    };
    let signature = signature::sign(script, &document.root, key);
    format!("{}<pg_sig>{signature}{}", &body[..start], &body[end..])
}

/// Writes `bytes` to `path` through a temporary sibling and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The process id keeps two fph processes apart, the counter two cases of one run that
    // write the same file at once (two matrix rows sharing an expected body).
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Removes the temporary files of [`write_atomically`] that no live process is writing —
/// what a recording killed outright (SIGKILL) leaves — below `recordings`, one level of
/// scenario directories deep; returns what it removed. A file of a process still running
/// (another fph recording into the same directory) is left alone.
pub fn remove_abandoned_temporaries(recordings: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(scenarios) = std::fs::read_dir(recordings) else {
        return removed;
    };
    for dir in scenarios.flatten() {
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name();
            let Some(pid) = temporary_writer(&name.to_string_lossy()) else {
                continue;
            };
            if !process_is_running(pid) && std::fs::remove_file(file.path()).is_ok() {
                removed.push(file.path());
            }
        }
    }
    removed.sort();
    removed
}

/// The process id in a temporary file name `.{name}.{pid}.{n}.tmp`, if it is one.
fn temporary_writer(file_name: &str) -> Option<u32> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = inner.rsplitn(3, '.');
    let counter = parts.next()?;
    let pid = parts.next()?;
    let _name = parts.next().filter(|n| !n.is_empty())?;
    counter.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether a process with this id runs now (ours always does). Where `/proc` is not there
/// to ask, every other writer counts as running: a stray file is better than a lost write.
fn process_is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// A case name as a file name: the rule is the scenario loader's, which refuses two cases
/// that share one.
pub fn file_name_for(case: &str) -> String {
    crate::scenario::cassette_file_name(case)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cassette {
        Cassette {
            format: FORMAT,
            scenario: "kcell_sms_approval".into(),
            case: "operator=KCELLKZT".into(),
            recorded_at: "2026-11-23T10:00:00Z".into(),
            target: "emulator".into(),
            harness: "0.1.0".into(),
            scenario_digest: "abc".into(),
            bindings: OrderedMap(vec![("order_id.1".into(), "ord-1".into())]),
            interactions: vec![Interaction {
                step: "init".into(),
                attempt: 1,
                direction: Default::default(),
                request: RecordedRequest {
                    method: "POST".into(),
                    encoding: Encoding::Urlencoded,
                    path: "/init_payment.php".into(),
                    fields: OrderedMap(vec![
                        ("pg_amount".into(), "150.00".into()),
                        ("pg_merchant_id".into(), "{{merchant_id}}".into()),
                        ("pg_description".into(), "yes".into()),
                        ("pg_receipt_positions[0][count]".into(), "1".into()),
                        ("pg_order_id".into(), "0012".into()),
                        ("pg_empty".into(), "".into()),
                    ]),
                },
                response: RecordedResponse {
                    status: 200,
                    content_type: Some("text/xml; charset=UTF-8".into()),
                    elapsed_ms: 3,
                    body: "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response>\n  <pg_status>ok</pg_status>\n</response>\n".into(),
                },
            }],
        }
    }

    #[test]
    fn round_trips_through_yaml_exactly() {
        let cassette = sample();
        let yaml = cassette.to_yaml().unwrap();
        assert!(yaml.contains("body: |"), "{yaml}");
        assert!(
            yaml.contains("pg_merchant_id: \"{{merchant_id}}\""),
            "{yaml}"
        );
        assert_eq!(
            Cassette::parse(&yaml, Path::new("c.yaml")).unwrap(),
            cassette
        );
    }

    #[test]
    fn awkward_bodies_survive_the_round_trip() {
        for body in [
            "",
            "no newline at the end",
            "<response>\r\n<a>1</a>\r\n</response>\r\n",
            "trailing spaces   \n  leading\n\n\n",
            "tab\there\n",
            "  starts with spaces\n",
            "ünïcødé — текст\n",
            "a very long single line body with many words in it that goes on and on past eighty characters for sure",
            "# not a comment\n- not a list\nkey: not a map\n",
        ] {
            let mut cassette = sample();
            cassette.interactions[0].response.body = body.into();
            let yaml = cassette.to_yaml().unwrap();
            let back = Cassette::parse(&yaml, Path::new("c.yaml")).unwrap();
            assert_eq!(back.interactions[0].response.body, body, "{yaml}");
        }
    }

    #[test]
    fn wrong_format_versions_say_to_re_record() {
        let yaml = sample()
            .to_yaml()
            .unwrap()
            .replace("format: 1", "format: 2");
        let err = Cassette::parse(&yaml, Path::new("r/c.yaml")).unwrap_err();
        assert!(
            matches!(err, CassetteError::Format { found: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("re-record"), "{err}");
    }

    #[test]
    fn unknown_keys_and_truncation_are_located_errors() {
        let yaml = sample()
            .to_yaml()
            .unwrap()
            .replace("attempt: 1", "attempt: 1\n  colour: red");
        let err = Cassette::parse(&yaml, Path::new("c.yaml")).unwrap_err();
        let CassetteError::Syntax { line, .. } = &err else {
            panic!("{err}");
        };
        assert!(*line > 1, "{err}");
        assert!(err.to_string().contains("colour"), "{err}");

        let full = sample().to_yaml().unwrap();
        let cut = &full[..full.find("response:").unwrap()];
        let err = Cassette::parse(cut, Path::new("c.yaml")).unwrap_err();
        assert!(err.to_string().contains("c.yaml"), "{err}");
    }

    #[test]
    fn duplicate_fields_are_refused() {
        let yaml = sample().to_yaml().unwrap().replace(
            "pg_description: \"yes\"",
            "pg_description: a\n      pg_amount: '1'",
        );
        let err = Cassette::parse(&yaml, Path::new("c.yaml")).unwrap_err();
        assert!(
            err.to_string()
                .contains("c.yaml:21:7: duplicate mapping key: pg_amount"),
            "{err}"
        );
    }

    #[test]
    fn atomic_save_replaces_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = Cassette::path_for(dir.path(), "s", "operator=KCELLKZT");
        sample().save(&path, dir.path()).unwrap();
        let mut changed = sample();
        changed.case = "other".into();
        changed.save(&path, dir.path()).unwrap();
        assert_eq!(Cassette::load(&path).unwrap().case, "other");
        let files: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1);
    }

    /// Beside scenarios with the cassette schema, a cassette names it (relative to itself)
    /// in its first line, and still loads; with no schema there, no modeline.
    #[test]
    fn a_cassette_names_the_schema_of_its_scenarios_directory() {
        let dir = tempfile::tempdir().unwrap();
        let scenarios = dir.path().join("scenarios");
        let path = Cassette::path_for(&dir.path().join("recordings"), "s", "default");
        sample().save(&path, &scenarios).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("format: 1\n"), "{text}");

        std::fs::create_dir_all(scenarios.join(SCHEMA_DIR)).unwrap();
        std::fs::write(scenarios.join(SCHEMA_DIR).join(SCHEMA_FILE), "{}").unwrap();
        sample().save(&path, &scenarios).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let modeline = "# yaml-language-server: $schema=../../scenarios/.schema/cassette.json\n";
        assert!(text.starts_with(modeline), "{text}");
        assert_eq!(Cassette::load(&path).unwrap(), sample());

        // Paths as given on a command line: relative, with `.` and `..` in them.
        let cwd = std::env::current_dir().unwrap();
        let relative = |path: &Path| {
            let up: PathBuf = cwd.components().skip(1).map(|_| "..").collect();
            up.join(path.strip_prefix("/").unwrap())
        };
        assert_eq!(
            schema_modeline(
                &relative(&path),
                &relative(&dir.path().join("recordings/../scenarios/."))
            )
            .as_deref(),
            Some(modeline)
        );
    }

    #[test]
    fn temporaries_of_dead_writers_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = dir.path().join("s");
        std::fs::create_dir_all(&scenario).unwrap();
        let dead = scenario.join(".default.yaml.99999999.3.tmp");
        let mine = scenario.join(format!(".default.yaml.{}.0.tmp", std::process::id()));
        let cassette = scenario.join("default.yaml");
        let hidden = scenario.join(".notes.tmp");
        for path in [&dead, &mine, &cassette, &hidden] {
            std::fs::write(path, "").unwrap();
        }
        assert_eq!(remove_abandoned_temporaries(dir.path()), vec![dead.clone()]);
        assert!(!dead.exists());
        assert!(mine.exists() && cassette.exists() && hidden.exists());
        assert_eq!(temporary_writer(".a.b.yaml.12.0.tmp"), Some(12));
        assert_eq!(temporary_writer("..12.0.tmp"), None);
    }

    #[test]
    fn case_names_become_safe_file_names() {
        assert_eq!(
            file_name_for("operator=KCELLKZT,phone=77017777777"),
            "operator=KCELLKZT,phone=77017777777"
        );
        assert_eq!(file_name_for("a/b c"), "a_b_c");
        assert_eq!(file_name_for("../x"), "_.._x");
        assert_eq!(file_name_for(""), "_");
    }
}
