//! Checking templated values at load time: they parse, call known functions correctly, never
//! read the secret key, and use only variables defined at that point of the scenario (vars,
//! matrix columns, built-ins, earlier captures); names given to variables must be usable.

use std::collections::{HashMap, HashSet};

use serde_saphyr::Spanned;

use crate::template::{self, BUILTIN_VARIABLES, FUNCTIONS, TemplateError};

use super::Loader;
use crate::scenario::diagnostic::{ErrorKind, ScenarioError, Span, did_you_mean};
use crate::scenario::model::Template;

/// The variables a template may use at one point of the scenario.
pub(super) struct Scope {
    pub(super) defined: HashSet<String>,
    /// Every capture of the scenario and the step that makes it, to explain a variable used
    /// before the step that captures it.
    pub(super) captured_by: HashMap<String, String>,
}

impl Scope {
    fn is_defined(&self, name: &str) -> bool {
        self.defined.contains(name)
    }
}

impl Loader<'_> {
    /// A name templates refer to: an identifier that is neither a built-in nor a function.
    pub(crate) fn check_name(
        &self,
        name: &Spanned<String>,
        what: &str,
    ) -> Result<(), ScenarioError> {
        let text = name.value.as_str();
        let identifier = crate::template::is_identifier(text) && !text.starts_with("__");
        if !identifier {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{text}` cannot be a {what} name"),
                    self.span(name),
                )
                .with_label("not an identifier")
                .with_help(format!(
                    "templates refer to it as `{{{{ name }}}}`: use letters, digits and `_`, e.g. `{}`",
                    text.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                        .trim_start_matches('_')
                )));
        }
        if BUILTIN_VARIABLES.contains(&text) {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{text}` is a built-in variable"),
                    self.span(name),
                )
                .with_label(format!("this {what} would hide it"))
                .with_help(format!(
                    "the built-ins are {}; pick another name",
                    BUILTIN_VARIABLES.join(", ")
                )));
        }
        if FUNCTIONS.contains(&text) {
            return Err(self
                .error(
                    ErrorKind::InvalidValue,
                    format!("`{text}` is a template function"),
                    self.span(name),
                )
                .with_label(format!("this {what} would hide `{text}()`"))
                .with_help("pick another name"));
        }
        Ok(())
    }

    /// Checks a templated string: it parses, and every variable it reads is defined here.
    pub(super) fn template(
        &self,
        value: &Spanned<String>,
        scope: &Scope,
    ) -> Result<Template, ScenarioError> {
        let span = self.span(value);
        let text = value.value.as_str();
        let variables = match template::referenced_variables(text) {
            Ok(variables) => variables,
            Err(TemplateError::Syntax { message, range, .. }) => {
                let at = range.map_or(span, |r| self.inner_span(span, text, r.start, r.len()));
                return Err(self
                    .error(
                        ErrorKind::TemplateSyntax,
                        format!("template does not parse: {message}"),
                        at,
                    )
                    .with_label("here")
                    .with_help(
                        "templates use minijinja syntax: `{{ variable }}`, `{{ order_id() }}`",
                    ));
            }
            Err(other) => {
                return Err(self.error(ErrorKind::TemplateSyntax, other.to_string(), span));
            }
        };
        if let Some(call) = template::secret_env_call(text) {
            return Err(self
                .error(
                    ErrorKind::SecretInScenario,
                    template::secret_refused(),
                    self.inner_span(span, text, call.start, call.len()),
                )
                .with_label("the secret would be sent, recorded and reported")
                .with_help(
                    "the harness signs every request with the secret itself; to test a bad signature, set `pg_sig` to a wrong value",
                ));
        }
        if let Some(name) = variables.iter().find(|name| !scope.is_defined(name)) {
            let at = template::find_identifier(text, name).map_or(span, |offset| {
                self.inner_span(span, text, offset, name.len())
            });
            let help = if let Some(step) = scope.captured_by.get(name) {
                format!(
                    "`{name}` is captured by step `{step}`; a capture can be used only in later steps"
                )
            } else if let Some(best) = did_you_mean(
                name,
                scope.defined.iter().map(String::as_str).chain(FUNCTIONS),
            ) {
                if FUNCTIONS.contains(&best) {
                    format!("did you mean `{best}()`?")
                } else {
                    format!("did you mean `{best}`?")
                }
            } else {
                format!(
                    "define it under `vars:`, as a matrix column, or capture it in an earlier step (built-ins: {})",
                    BUILTIN_VARIABLES.join(", ")
                )
            };
            return Err(self
                .error(
                    ErrorKind::UndefinedVariable,
                    format!("undefined template variable `{name}`"),
                    at,
                )
                .with_label("not defined here")
                .with_help(help));
        }
        if let Err(problem) = template::check_calls(text, &variables) {
            return Err(self
                .error(
                    ErrorKind::TemplateSyntax,
                    format!("template cannot be rendered: {problem}"),
                    span,
                )
                .with_label("this call")
                .with_help(format!(
                    "the functions are {}; `sms_code(phone)`, `random_digits(n)`, `env(\"NAME\")` and `callback_url(\"result\"|\"check\")` take one argument; minijinja's filters are listed at https://docs.rs/minijinja/latest/minijinja/filters/",
                    FUNCTIONS.map(|f| format!("{f}()")).join(", ")
                )));
        }
        Ok(Template::new(text, span))
    }

    /// The span of `len` bytes at `offset` inside a string value whose YAML token is at
    /// `value_span`, when the token contains the string verbatim (plain or quoted without
    /// escapes); otherwise the whole value.
    fn inner_span(&self, value_span: Span, value: &str, offset: usize, len: usize) -> Span {
        let token = value_span.text(self.source);
        match token.find(value) {
            Some(start) if !value.is_empty() => {
                Span::at_offset(self.source, value_span.offset + start + offset, len.max(1))
            }
            _ => value_span,
        }
    }
}
