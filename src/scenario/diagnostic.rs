//! One diagnostic shape for every mistake in a scenario file or `harness.yaml`: the file, a
//! span at the offending value, a title and a hint ("did you mean `pg_payment_id`?").
//!
//! [`ScenarioError`] is a [`miette::Diagnostic`], so `fph lint` prints it with miette's
//! graphical handler and the YAML text as source. For logs, CI annotations and the expected
//! texts of the tests it also renders plainly: `Display` gives `file:line:column: title` and
//! [`ScenarioError::render_plain`] adds the hint on a second line.
//!
//! YAML syntax and type errors come from serde-saphyr; their locations (`Error::location`) are
//! reused as they are, so a parse error and a validation error point the same way.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde_saphyr::{Location, MessageFormatter};

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
        let chars = location.span();
        let (offset, len) = match (chars.byte_offset(), chars.byte_len()) {
            (Some(offset), Some(len)) => (offset as usize, len as usize),
            _ => {
                let offset = byte_of_char(source, chars.offset() as usize);
                let end = byte_of_char(source, chars.offset() as usize + chars.len() as usize);
                (offset, end - offset)
            }
        };
        let offset = offset.min(source.len());
        Span {
            offset,
            len: len.min(source.len() - offset),
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

fn byte_of_char(source: &str, char_index: usize) -> usize {
    source
        .char_indices()
        .nth(char_index)
        .map_or(source.len(), |(i, _)| i)
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
    /// message, and for unknown keys a did-you-mean hint.
    pub(crate) fn from_yaml(
        error: &serde_saphyr::Error,
        file: &Path,
        source: &Arc<str>,
        hidden_keys: &[&str],
    ) -> ScenarioError {
        let span = error
            .location()
            .map_or(Span::UNKNOWN, |loc| Span::from_location(&loc, source));
        let inner = error.without_snippet();
        if let serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } = inner
        {
            let expected: Vec<&str> = expected
                .iter()
                .copied()
                .filter(|key| !hidden_keys.contains(key))
                .collect();
            return unknown_key(file, source, span, field, &expected);
        }
        if source.trim().is_empty() {
            return ScenarioError::new(
                ErrorKind::Yaml,
                "the file is empty",
                file,
                Some(source),
                span,
            )
            .with_help("a scenario needs at least `name:` and `steps:`");
        }
        let message = serde_saphyr::UserMessageFormatter
            .format_message(inner)
            .into_owned();
        let error = ScenarioError::new(ErrorKind::Yaml, message.clone(), file, Some(source), span)
            .with_label("here");
        match inner {
            serde_saphyr::Error::SerdeMissingField { field, .. } => {
                error.with_help(format!("add `{field}:` to this mapping"))
            }
            // The parser notices a syntax mistake where it can no longer go on, which is
            // often after the mistake itself.
            _ if is_syntax_message(&message) => error.with_help(
                "the mistake may be earlier: look for an unclosed `{`, `[` or quote, or a wrong indent",
            ),
            _ => error,
        }
    }
}

/// True for the parser's (not serde's) messages: YAML that does not parse at all.
fn is_syntax_message(message: &str) -> bool {
    [
        "while parsing",
        "while scanning",
        "did not find expected",
        "tabs disallowed",
        "cannot start any token",
    ]
    .iter()
    .any(|marker| message.contains(marker))
}

/// The diagnostic for a key the format does not know, with the nearest known key as a hint.
pub(crate) fn unknown_key(
    file: &Path,
    source: &Arc<str>,
    span: Span,
    key: &str,
    expected: &[&str],
) -> ScenarioError {
    let help = match did_you_mean(key, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "remove it".to_owned(),
        None => format!("expected one of: {}", expected.join(", ")),
    };
    ScenarioError::new(
        ErrorKind::UnknownKey,
        format!("unknown key `{key}`"),
        file,
        Some(source),
        span,
    )
    .with_label("not a known key here")
    .with_help(help)
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

/// The closest candidate to `word` by edit distance (adjacent swaps count as one edit), when
/// it is close enough to be a plausible typo: at most one edit per three characters, or a
/// candidate that `word` is the beginning of.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| {
            let distance = if candidate.eq_ignore_ascii_case(word) {
                0
            } else {
                edit_distance(word, candidate)
            };
            // A cut-short name (`resend` for `resend_code`) is a plausible slip too, but
            // ranks after real typos.
            let truncated = word.len() >= 3 && candidate.starts_with(word);
            let distance = if truncated {
                distance.min(limit)
            } else {
                distance
            };
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        // Ties go to the alphabetically first, so hints do not depend on hash order.
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters (the commonest typo, `exepct`) each cost one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("expect", "expect"), 0);
        assert_eq!(edit_distance("exepct", "expect"), 1);
        assert_eq!(edit_distance("captur", "capture"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn did_you_mean_picks_a_close_candidate_only() {
        let keys = [
            "id",
            "call",
            "form",
            "expect",
            "expect_body",
            "capture",
            "poll",
        ];
        assert_eq!(did_you_mean("exepct", keys), Some("expect"));
        assert_eq!(did_you_mean("Form", keys), Some("form"));
        assert_eq!(did_you_mean("caputre", keys), Some("capture"));
        assert_eq!(did_you_mean("timeout", keys), None);
        assert_eq!(
            did_you_mean("resend", ["pay", "resend_code"]),
            Some("resend_code")
        );
        assert_eq!(did_you_mean("ex", ["expect_body"]), None);
        assert_eq!(
            did_you_mean("pg_paymnt_id", ["pg_payment_id", "pg_order_id"]),
            Some("pg_payment_id")
        );
    }

    #[test]
    fn span_at_offset_counts_lines_and_characters() {
        let source = "a: 1\nbé: x\n";
        let offset = source.find('x').unwrap();
        let span = Span::at_offset(source, offset, 1);
        assert_eq!((span.line, span.column), (2, 5));
        assert_eq!(span.text(source), "x");
    }

    #[test]
    fn plain_rendering_has_location_title_and_hint() {
        let source: Arc<str> = Arc::from("steps:\n  - exepct: {}\n");
        let offset = source.find("exepct").unwrap();
        let span = Span::at_offset(&source, offset, 6);
        let error = unknown_key(
            Path::new("s.yaml"),
            &source,
            span,
            "exepct",
            &["id", "expect"],
        );
        assert_eq!(
            error.render_plain(),
            "s.yaml:2:5: unknown key `exepct`\n  help: did you mean `expect`?"
        );
        assert_eq!(error.to_string(), "s.yaml:2:5: unknown key `exepct`");
        assert_eq!(error.location(), (Path::new("s.yaml"), 2, 5));
    }

    /// miette's graphical rendering is the CLI's (`fancy`, with the `cli` feature).
    #[test]
    #[cfg(feature = "cli")]
    fn graphical_rendering_shows_the_source_and_the_hint() {
        let source: Arc<str> = Arc::from("steps:\n  - exepct: {}\n");
        let offset = source.find("exepct").unwrap();
        let span = Span::at_offset(&source, offset, 6);
        let error = unknown_key(Path::new("s.yaml"), &source, span, "exepct", &["expect"]);
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
