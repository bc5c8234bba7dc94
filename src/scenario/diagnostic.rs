//! One diagnostic shape for every mistake in a scenario file or `harness.yaml`: the file, a
//! span at the offending value, a title and a hint ("did you mean `pg_payment_id`?").
//!
//! [`ScenarioError`] is a [`miette::Diagnostic`], so `fph lint` prints it with miette's
//! graphical handler and the YAML text as source. For logs, CI annotations and the expected
//! texts of the tests it also renders plainly: `Display` gives `file:line:column: title` and
//! [`ScenarioError::render_plain`] adds the hint on a second line.
//!
//! YAML syntax and type errors come from serde-saphyr; `yaml_mistake` explains them (their
//! locations reused as they are, a fix added) as for every YAML file fph reads, so a parse
//! error and a validation error point the same way.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde_saphyr::Location;

pub(crate) use crate::yaml_mistake::did_you_mean;
use crate::yaml_mistake::{MistakeKind, YamlMistake};

/// A place in a YAML source: byte offset and length (for miette), 1-based line and column
/// (characters, as an editor counts them). Line 0 means the place is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
    pub line: usize,
    pub column: usize,
}

impl Span {
    /// No known place (a file that cannot be read, a value built in code).
    pub const UNKNOWN: Span = Span {
        offset: 0,
        len: 0,
        line: 0,
        column: 0,
    };

    /// True when the span points somewhere.
    pub fn is_known(&self) -> bool {
        self.line > 0
    }

    /// The span of a serde-saphyr location in `source`. serde-saphyr always knows the
    /// character offset; byte offsets only for string input, so they are recomputed here.
    pub(crate) fn from_location(location: &Location, source: &str) -> Span {
        if location.line() == 0 {
            return Span::UNKNOWN;
        }
        let range = crate::yaml_mistake::byte_range(location, source);
        Span {
            offset: range.start,
            len: range.len(),
            line: location.line() as usize,
            column: location.column() as usize,
        }
    }

    /// The span of `len` bytes at byte `offset` of `source`, with line and column computed.
    pub(crate) fn at_offset(source: &str, offset: usize, len: usize) -> Span {
        let offset = offset.min(source.len());
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = source[line_start..offset].chars().count() + 1;
        Span {
            offset,
            len: len.min(source.len() - offset),
            line,
            column,
        }
    }

    /// The text this span covers in `source` (empty when unknown or out of range).
    pub fn text<'s>(&self, source: &'s str) -> &'s str {
        source
            .get(self.offset..self.offset + self.len)
            .unwrap_or("")
    }

    fn to_miette(self) -> SourceSpan {
        SourceSpan::new(self.offset.into(), self.len)
    }
}

/// What went wrong, for callers that react differently (and for the diagnostic code, e.g.
/// `fph::scenario::unknown_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file or directory could not be read.
    Io,
    /// The YAML does not parse, or a value has the wrong type.
    Yaml,
    /// A key the format does not know.
    UnknownKey,
    /// `call:` names no Freedom Pay call.
    UnknownCall,
    /// Two steps share an id.
    DuplicateStepId,
    /// `poll` on a call that must not be repeated.
    PollNotIdempotent,
    /// `capture` of a field the call never returns.
    ImpossibleCapture,
    /// A `matches:` pattern that is not a valid regex.
    BadRegex,
    /// Matrix rows that do not line up.
    Matrix,
    /// A template that does not parse.
    TemplateSyntax,
    /// A template variable nothing defines.
    UndefinedVariable,
    /// A credential written into `harness.yaml`.
    SecretInConfig,
    /// A scenario template that reads the merchant secret (`env("FREEDOMPAY_SECRET_KEY")`).
    SecretInScenario,
    /// Two scenario files would share recordings.
    DuplicateScenario,
    /// Any other value the format does not accept (durations, names, versions, paths…).
    InvalidValue,
    /// Not a mistake in the file: a check that failed at run time, reported by the runner
    /// with the same shape through `Scenario::error_at`.
    Failed,
}

impl ErrorKind {
    /// The stable code shown by miette and usable in scripts.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::Yaml => "yaml",
            ErrorKind::UnknownKey => "unknown_key",
            ErrorKind::UnknownCall => "unknown_call",
            ErrorKind::DuplicateStepId => "duplicate_step_id",
            ErrorKind::PollNotIdempotent => "poll_not_idempotent",
            ErrorKind::ImpossibleCapture => "impossible_capture",
            ErrorKind::BadRegex => "bad_regex",
            ErrorKind::Matrix => "matrix",
            ErrorKind::TemplateSyntax => "template_syntax",
            ErrorKind::UndefinedVariable => "undefined_variable",
            ErrorKind::SecretInConfig => "secret_in_config",
            ErrorKind::SecretInScenario => "secret_in_scenario",
            ErrorKind::DuplicateScenario => "duplicate_scenario",
            ErrorKind::InvalidValue => "invalid_value",
            ErrorKind::Failed => "failed",
        }
    }
}

/// A mistake in a scenario file or `harness.yaml`, pointing at the offending value.
///
/// Boxed inside: errors travel through every loader function's `Result`, and the details
/// (source, spans, texts) would make each of those large.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.headline())]
pub struct ScenarioError {
    details: Box<Details>,
}

#[derive(Debug, Clone)]
struct Details {
    kind: ErrorKind,
    title: String,
    file: PathBuf,
    source_code: Option<NamedSource<Arc<str>>>,
    span: Span,
    label: Option<String>,
    secondary: Vec<(Span, String)>,
    help: Option<String>,
}

impl ScenarioError {
    /// An error about `file`, whose text is `source`, at `span`.
    pub(crate) fn new(
        kind: ErrorKind,
        title: impl Into<String>,
        file: &Path,
        source: Option<&Arc<str>>,
        span: Span,
    ) -> ScenarioError {
        ScenarioError {
            details: Box::new(Details {
                kind,
                title: title.into(),
                file: file.to_owned(),
                source_code: source
                    .map(|text| NamedSource::new(file.display().to_string(), Arc::clone(text))),
                span,
                label: None,
                secondary: Vec::new(),
                help: None,
            }),
        }
    }

    /// A file or directory that cannot be read.
    pub(crate) fn io(file: &Path, what: &str, error: &std::io::Error) -> ScenarioError {
        if error.kind() == std::io::ErrorKind::NotFound {
            return ScenarioError::new(
                ErrorKind::Io,
                format!("failed to read {what}: there is no such file or directory"),
                file,
                None,
                Span::UNKNOWN,
            )
            .with_help(
                "pass the scenario files or directories to use; without paths fph reads `scenarios/` in the current directory",
            );
        }
        ScenarioError::new(
            ErrorKind::Io,
            format!("failed to read {what}: {error}"),
            file,
            None,
            Span::UNKNOWN,
        )
    }

    /// A file that cannot be read as text, at the place of the first byte that is not.
    pub(crate) fn text_file(error: &crate::text_file::TextFileError, what: &str) -> ScenarioError {
        let span = Span {
            offset: 0,
            len: 0,
            line: error.line,
            column: error.column,
        };
        ScenarioError::new(
            ErrorKind::Io,
            format!("failed to read {what}: {}", error.reason),
            &error.path,
            None,
            span,
        )
        .with_help(if error.line > 0 {
            "scenarios, harness.yaml and cassettes are UTF-8 YAML text"
        } else {
            "point fph at a regular, readable file"
        })
    }

    /// The text under the primary span (shown by the graphical handler).
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.details.label = Some(label.into());
        self
    }

    /// Another place that explains the error (e.g. the first of two duplicate ids).
    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        if span.is_known() {
            self.details.secondary.push((span, label.into()));
        }
        self
    }

    /// The fix hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.details.help = Some(help.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.details.kind
    }

    /// The one-line description, without location or hint.
    pub fn title(&self) -> &str {
        &self.details.title
    }

    /// The fix hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.details.help.as_deref()
    }

    /// The file the error is about.
    pub fn file(&self) -> &Path {
        &self.details.file
    }

    /// The primary span (line 0 when the error is about the whole file).
    pub fn span(&self) -> Span {
        self.details.span
    }

    /// File, 1-based line and 1-based column; line and column are 0 when the error is about
    /// the whole file (it could not be read).
    pub fn location(&self) -> (&Path, usize, usize) {
        (
            &self.details.file,
            self.details.span.line,
            self.details.span.column,
        )
    }

    fn headline(&self) -> String {
        if self.details.span.is_known() {
            format!(
                "{}:{}:{}: {}",
                self.details.file.display(),
                self.details.span.line,
                self.details.span.column,
                self.details.title
            )
        } else {
            format!("{}: {}", self.details.file.display(), self.details.title)
        }
    }

    /// The plain rendering for non-terminal output: `file:line:column: title`, then the hint
    /// on an indented `help:` line when there is one. No colour, no source excerpt.
    pub fn render_plain(&self) -> String {
        match &self.details.help {
            Some(help) => format!("{}\n  help: {help}", self.headline()),
            None => self.headline(),
        }
    }

    /// Reads a serde-saphyr error about `file` into a diagnostic: its own location, its own
    /// message, and the fix (for unknown keys a did-you-mean) — explained as for every YAML
    /// file fph reads (`yaml_mistake`).
    pub(crate) fn from_yaml(
        error: &serde_saphyr::Error,
        file: &Path,
        source: &Arc<str>,
        hidden_keys: &[&str],
    ) -> ScenarioError {
        let mistake = YamlMistake::read(error, source, hidden_keys);
        let span = Span {
            offset: mistake.range.start,
            len: mistake.range.len(),
            line: mistake.line,
            column: mistake.column,
        };
        if mistake.kind == MistakeKind::Yaml && source.trim().is_empty() {
            return ScenarioError::new(
                ErrorKind::Yaml,
                "the file is empty",
                file,
                Some(source),
                span,
            )
            .with_help("a scenario needs at least `name:` and `steps:`");
        }
        let kind = match mistake.kind {
            MistakeKind::Yaml => ErrorKind::Yaml,
            MistakeKind::UnknownKey => ErrorKind::UnknownKey,
        };
        let error = ScenarioError::new(kind, mistake.title, file, Some(source), span)
            .with_label(mistake.label);
        match mistake.help {
            Some(help) => error.with_help(help),
            None => error,
        }
    }
}

impl miette::Diagnostic for ScenarioError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "fph::scenario::{}",
            self.details.kind.code()
        )))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.details
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.details
            .source_code
            .as_ref()
            .map(|source| source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if !self.details.span.is_known() || self.details.source_code.is_none() {
            return None;
        }
        let primary = LabeledSpan::new_primary_with_span(
            self.details.label.clone(),
            self.details.span.to_miette(),
        );
        let secondary =
            self.details.secondary.iter().map(|(span, label)| {
                LabeledSpan::new_with_span(Some(label.clone()), span.to_miette())
            });
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_at_offset_counts_lines_and_characters() {
        let source = "a: 1\nbé: x\n";
        let offset = source.find('x').unwrap();
        let span = Span::at_offset(source, offset, 1);
        assert_eq!((span.line, span.column), (2, 5));
        assert_eq!(span.text(source), "x");
    }

    /// A step with a mistyped key, as the scenario loader reads it.
    fn unknown_step_key() -> ScenarioError {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only read to make serde-saphyr refuse YAML")]
        struct Step {
            id: Option<String>,
            expect: Option<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[expect(dead_code, reason = "only read to make serde-saphyr refuse YAML")]
        struct Steps {
            steps: Vec<Step>,
        }
        let source: Arc<str> = Arc::from("steps:\n  - exepct: {}\n");
        let error = serde_saphyr::from_str::<Steps>(&source).unwrap_err();
        ScenarioError::from_yaml(&error, Path::new("s.yaml"), &source, &[])
    }

    #[test]
    fn plain_rendering_has_location_title_and_hint() {
        let error = unknown_step_key();
        assert_eq!(
            error.render_plain(),
            "s.yaml:2:5: unknown key `exepct`\n  help: did you mean `expect`?"
        );
        assert_eq!(error.to_string(), "s.yaml:2:5: unknown key `exepct`");
        assert_eq!(error.location(), (Path::new("s.yaml"), 2, 5));
        assert_eq!(error.kind(), ErrorKind::UnknownKey);
    }

    /// miette's graphical rendering is the CLI's (`fancy`, with the `cli` feature).
    #[test]
    #[cfg(feature = "cli")]
    fn graphical_rendering_shows_the_source_and_the_hint() {
        let error = unknown_step_key();
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, &error)
            .unwrap();
        assert!(out.contains("s.yaml:2:5"), "{out}");
        assert!(out.contains("- exepct: {}"), "{out}");
        assert!(out.contains("not a known key here"), "{out}");
        assert!(out.contains("did you mean `expect`?"), "{out}");
        assert!(out.contains("fph::scenario::unknown_key"), "{out}");
    }

    #[test]
    fn unreadable_files_have_no_line() {
        let error = ScenarioError::io(
            Path::new("missing.yaml"),
            "scenario",
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(error.location(), (Path::new("missing.yaml"), 0, 0));
        assert!(
            error
                .to_string()
                .starts_with("missing.yaml: failed to read scenario")
        );
    }
}
