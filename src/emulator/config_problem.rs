//! A setting the emulator cannot run with, or YAML it cannot read, and where the
//! configuration file writes it: every mistake in an emulator configuration is one of these,
//! shown one way.
//!
//! Every check of the configuration — while reading the YAML file (`version`, `bind`, an
//! `answer_changes` call) or afterwards on the whole [`EmulatorConfig`](super::EmulatorConfig)
//! (`validate`: merchants, routes, bounds), which may have been built in code — names the
//! offending setting by its key path in the file: `bind`, `routes.resend_code`,
//! `merchants.552170`, `answer_changes[0].call`. That is the one thing a check has to say
//! about the place. When the configuration came from a file, [`ConfigProblem::locate`] looks
//! the key path up in the file's YAML ([`place_of`]) and the problem gets the file, the line
//! and column of the value and a snippet to show (the file's text with every secret crossed
//! out, see `secret_guard::mask_config_secrets`); a setting the file does not write (a route
//! left at its default) is shown at the nearest written parent (`routes`), else at the file.
//!
//! YAML the emulator cannot read at all — a syntax error, a value of the wrong type
//! (`code_attempts: many`), an unknown key — names no setting: serde-saphyr gives the place,
//! and `yaml_mistake` the words and the fix (a did-you-mean for a mistyped key), as it does for
//! scenarios and `harness.yaml` ([`ConfigProblem::from_yaml`]).
//!
//! A problem renders plainly (`file:line:column: what is wrong; how to fix it`, in
//! [`EmulatorError`](super::EmulatorError)'s message) and as a [`miette::Diagnostic`] with the
//! snippet ([`EmulatorError::report`](super::EmulatorError::report)), in the shape of every
//! fph diagnostic: the title `file:line:column: what is wrong`, the line of the file with the
//! value underlined, the fix.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use crate::yaml_mistake::YamlMistake;

/// What is wrong with one setting, how to fix it, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The setting as a key path of the YAML file (`bind`, `routes.pay`, `merchants.552170`,
    /// `answer_changes[0].call`); empty when the problem is the file as a whole, or YAML that
    /// could not be read ([`ConfigProblem::from_yaml`]).
    pub setting: String,
    /// What is wrong, naming the value (never a secret key).
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Where, when the configuration came from a file. Boxed: it holds the file's text.
    pub place: Option<Box<ConfigPlace>>,
}

/// A place in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPlace {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line and column (in characters); 0 when the place in the file is not known.
    pub line: usize,
    pub column: usize,
    /// What to show of the file; `None` when there is nothing to show (the file is no text).
    snippet: Option<Snippet>,
}

/// The file's text with secrets crossed out, the byte range of the value in it, and the words
/// under it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snippet {
    text: Arc<str>,
    range: Range<usize>,
    label: &'static str,
}

impl ConfigProblem {
    /// A problem with `setting`; `help` says how to fix it.
    pub(crate) fn new(
        setting: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> ConfigProblem {
        ConfigProblem {
            setting: setting.into(),
            message: message.into(),
            help: Some(help.into()),
            place: None,
        }
    }

    /// The same problem for a setting inside `parent` (`call` in `answer_changes[0]`).
    pub(crate) fn within(mut self, parent: &str) -> ConfigProblem {
        self.setting = join(parent, &self.setting);
        self
    }

    /// A file that could not be read as text, at the place of the first byte that is not.
    pub(crate) fn unreadable(error: &crate::text_file::TextFileError) -> ConfigProblem {
        let help = if error.line > 0 {
            "an emulator configuration is UTF-8 YAML text"
        } else {
            "name a regular, readable YAML file"
        };
        ConfigProblem {
            setting: String::new(),
            message: error.reason.clone(),
            help: Some(help.to_owned()),
            place: Some(Box::new(ConfigPlace {
                file: error.path.display().to_string(),
                line: error.line,
                column: error.column,
                snippet: None,
            })),
        }
    }

    /// YAML in `file` (whose text is `text`) that serde-saphyr could not read, at the place
    /// `error` gives, explained as in every YAML file fph reads (`yaml_mistake`).
    pub(crate) fn from_yaml(error: &serde_saphyr::Error, file: &str, text: &str) -> ConfigProblem {
        // The message may quote the value at fault: take it from the text with secrets crossed
        // out (same length, so it fails at the same place). Only an error inside a secret
        // itself is gone there; its message is the original's.
        let shown = crate::secret_guard::mask_config_secrets(text);
        let masked = serde_saphyr::from_str::<super::config::RawConfig>(&shown).err();
        let mistake = YamlMistake::read(masked.as_ref().unwrap_or(error), &shown, &[]);
        let snippet = (mistake.line > 0).then(|| Snippet {
            text: Arc::from(shown),
            range: mistake.range,
            label: mistake.label,
        });
        ConfigProblem {
            setting: String::new(),
            message: mistake.title,
            help: mistake.help,
            place: Some(Box::new(ConfigPlace {
                file: file.to_owned(),
                line: mistake.line,
                column: mistake.column,
                snippet,
            })),
        }
    }

    /// The problem placed in `file`, whose YAML text is `text`: at the value of its setting,
    /// else of the nearest parent the file writes, else at the file as a whole.
    pub(crate) fn locate(mut self, file: &str, text: &str) -> ConfigProblem {
        let shown: Arc<str> = Arc::from(crate::secret_guard::mask_config_secrets(text));
        let mut setting = self.setting.as_str();
        let found = loop {
            if setting.is_empty() {
                break None;
            }
            if let Some(location) = place_of(text, setting) {
                break Some(location);
            }
            setting = parent(setting);
        };
        self.place = Some(Box::new(match found {
            Some(location) => ConfigPlace {
                file: file.to_owned(),
                line: location.line() as usize,
                column: location.column() as usize,
                snippet: Some(Snippet {
                    range: crate::yaml_mistake::byte_range(&location, &shown),
                    text: shown,
                    label: "this value",
                }),
            },
            None => ConfigPlace {
                file: file.to_owned(),
                line: 0,
                column: 0,
                snippet: None,
            },
        }));
        self
    }

    /// The one-line statement: `file:line:column: message` (as much of the place as known).
    pub fn headline(&self) -> String {
        match &self.place {
            Some(place) if place.line > 0 => format!(
                "{}:{}:{}: {}",
                place.file, place.line, place.column, self.message
            ),
            Some(place) => format!("{}: {}", place.file, self.message),
            None => self.message.clone(),
        }
    }

    /// The problem as a diagnostic, with a snippet of the file when there is text to show;
    /// `None` when the configuration came from no file. Its title is the
    /// [`headline`](Self::headline), as every fph diagnostic's: the place first, for editors
    /// and CI annotations.
    #[cfg_attr(
        not(any(feature = "emulator", test)),
        expect(dead_code, reason = "rendered by the server's build")
    )]
    pub(crate) fn diagnostic(&self) -> Option<ConfigDiagnostic> {
        let place = self.place.as_ref()?;
        Some(ConfigDiagnostic {
            title: self.headline(),
            help: self.help.clone(),
            shown: place.snippet.clone().map(|snippet| {
                (
                    NamedSource::new(&place.file, snippet.text),
                    LabeledSpan::new_primary_with_span(
                        Some(snippet.label.to_owned()),
                        SourceSpan::new(snippet.range.start.into(), snippet.range.len()),
                    ),
                )
            }),
        })
    }
}

/// The headline, then the fix: `file:line:column: message; help`.
impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        match &self.help {
            Some(help) => write!(f, "; {help}"),
            None => Ok(()),
        }
    }
}

/// A [`ConfigProblem`] shown rustc-style: the title with its place, the line of the file with
/// the value underlined, the fix.
#[derive(Debug)]
pub(crate) struct ConfigDiagnostic {
    title: String,
    help: Option<String>,
    /// The file's text (secrets crossed out) and the underlined value.
    shown: Option<(NamedSource<Arc<str>>, LabeledSpan)>,
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl std::error::Error for ConfigDiagnostic {}

impl miette::Diagnostic for ConfigDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("fph::emulator::config"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        let (source, _) = self.shown.as_ref()?;
        Some(source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, label) = self.shown.as_ref()?;
        Some(Box::new(std::iter::once(label.clone())))
    }
}

/// `parent.key`, or `key` at the top.
fn join(parent: &str, key: &str) -> String {
    match (parent.is_empty(), key.starts_with('[')) {
        (true, _) => key.to_owned(),
        (false, true) => format!("{parent}{key}"),
        (false, false) => format!("{parent}.{key}"),
    }
}

/// `routes` for `routes.pay`, `answer_changes[0]` for `answer_changes[0].call`, `` at the top.
fn parent(setting: &str) -> &str {
    setting.rfind(['.', '[']).map_or("", |at| &setting[..at])
}

/// Where the YAML `text` writes the value of `setting` (a key path as in [`ConfigProblem`]).
/// `None` when the text does not parse or does not write it.
pub(crate) fn place_of(text: &str, setting: &str) -> Option<Location> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).ok()?;
    let mut found = None;
    root.value.walk("", &mut |path, location| {
        if path == setting && found.is_none() {
            found = Some(location);
        }
    });
    found
}

/// Any YAML node, with the place of every value inside it: what [`place_of`] walks.
enum Node {
    Scalar,
    Map(Vec<(String, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
}

impl Node {
    /// Calls `visit` with the key path and place of every value below this node.
    fn walk(&self, path: &str, visit: &mut dyn FnMut(&str, Location)) {
        let mut child = |key: String, node: &Spanned<Node>| {
            visit(&key, node.referenced);
            node.value.walk(&key, visit);
        };
        match self {
            Node::Scalar => {}
            Node::Map(entries) => {
                for (key, node) in entries {
                    child(join(path, key), node);
                }
            }
            Node::Seq(items) => {
                for (index, node) in items.iter().enumerate() {
                    child(join(path, &format!("[{index}]")), node);
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((Key(key), value)) = map.next_entry()? {
                    entries.push((key, value));
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A mapping key as text, whatever its YAML type (`552170:` is a number).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key(String::new()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "bind: here\nmerchants:\n  \"552170\": \"\"\n  1001: k\nroutes: { pay: /mfs/pay2 }\nanswer_changes:\n  - { call: refund }\n";

    fn line_column(setting: &str) -> Option<(u64, u64)> {
        place_of(TEXT, setting).map(|l| (l.line(), l.column()))
    }

    #[test]
    fn key_paths_find_their_values() {
        assert_eq!(line_column("bind"), Some((1, 7)));
        assert_eq!(line_column("merchants.552170"), Some((3, 13)));
        assert_eq!(line_column("merchants.1001"), Some((4, 9)));
        assert_eq!(line_column("routes.pay"), Some((5, 16)));
        assert_eq!(line_column("answer_changes[0].call"), Some((7, 13)));
        assert_eq!(line_column("routes.status"), None);
    }

    #[test]
    fn a_setting_the_file_leaves_out_is_shown_at_its_parent() {
        let problem = ConfigProblem::new("routes.status", "m", "h").locate("e.yaml", TEXT);
        assert_eq!(problem.headline(), "e.yaml:5:9: m");
        let problem = ConfigProblem::new("seed", "m", "h").locate("e.yaml", TEXT);
        assert_eq!(problem.to_string(), "e.yaml: m; h");
        assert_eq!(ConfigProblem::new("seed", "m", "h").to_string(), "m; h");
    }

    #[test]
    fn the_snippet_crosses_out_secrets() {
        let text = "merchants: { \"1\": very-secret-key }\nbind: here\n";
        let problem = ConfigProblem::new("bind", "m", "h").locate("e.yaml", text);
        let diagnostic = problem.diagnostic().unwrap();
        let (source, label) = diagnostic.shown.unwrap();
        let source = source.inner();
        assert!(!source.contains("very-secret-key"), "{source}");
        assert_eq!(&source[label.offset()..][..label.len()], "here");
    }
}
