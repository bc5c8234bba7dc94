//! Templates in scenario values (`"{{ order_id() }}"`, `"{{ amount }}"`): a minijinja
//! environment with strict undefined behaviour (a missing variable is an error, never an
//! empty string), no auto-escaping (these are form fields, not HTML) and the harness's
//! functions:
//!
//! | function | value | key in [`Generated`] |
//! |---|---|---|
//! | `order_id()` | `fph-` and 12 lowercase letters or digits | `order_id.N` |
//! | `uuid()` | a random UUID (version 4) | `uuid.N` |
//! | `salt()` | 16 Latin letters and digits, like `pg_salt` | `salt.N` |
//! | `now()` | UTC time, `YYYY-MM-DD HH:MM:SS` (the gateway's date format) | `now.N` |
//! | `random_digits(n)` | `n` decimal digits, 1 ≤ n ≤ 64 | `random_digits.N` |
//! | `env("NAME")` | the environment variable; unset is an error naming it; never `FREEDOMPAY_SECRET_KEY` | `env.NAME` |
//! | `sms_code(phone)` | the SMS code the target sent to `phone` for this case's payment (looked up by the runner) | `sms_code.N` |
//!
//! **Generated-value keys.** Every value a function produces is recorded in the case's
//! [`Generated`] store so a cassette can freeze it: on replay the store is pre-filled with the
//! recorded values and returns them instead of generating new ones, so a replayed request is
//! byte-for-byte the recorded one. The key is the function name and a counter, `order_id.1`,
//! `order_id.2`, `uuid.1`, … counted **per case, per function, in call order**; the runner
//! renders steps in file order (form, then expectations, then poll conditions, attempt after
//! attempt), so the same scenario asks for the same keys in the same order on every run.
//! `env("NAME")` is keyed by name (`env.NAME`), not counted: its value is sent in the request
//! and so is in the cassette anyway, and CI replays without the variable set. The runner may
//! keep its own values (the `pg_salt` it adds to each request) in the same store under its own
//! keys through [`Generated::value`]. Changing a scenario's templates can shift the counters:
//! re-record after such an edit.
//!
//! **Variables.** A [`Context`] holds a case's bindings (vars and matrix row), the built-ins
//! (`merchant_id`, `target`, `case`, `scenario`) and captures as they arrive, and owns the
//! case's [`Generated`] store. Values are text.
//!
//! **Compiling once.** [`Renderer::prepare`] compiles every template of a scenario once; later
//! renders look the compiled template up by its text. A template that was not prepared is
//! compiled on the spot. Text without `{{`, `{%` or `{#` is returned as is.
//!
//! **Modules.** `generated` is the per-case store of generated values and `generators` the
//! argument-less functions that fill it; `context` is what a template sees; `functions`
//! registers the harness's functions with minijinja; `renderer` compiles and renders, taking
//! the `interpolation` fast path when a template is only text, variables and plain calls;
//! `analysis` is what the loader learns of a template without rendering it.

mod analysis;
mod context;
mod functions;
mod generated;
mod generators;
mod interpolation;
mod renderer;
#[cfg(test)]
mod tests;

pub(crate) use analysis::{
    check_calls, find_identifier, is_identifier, referenced_variables, secret_env_call,
};
pub use context::Context;
pub(crate) use functions::secret_refused;
pub use generated::Generated;
pub use renderer::Renderer;

/// The functions templates may call.
pub const FUNCTIONS: [&str; 8] = [
    "order_id",
    "uuid",
    "salt",
    "now",
    "random_digits",
    "env",
    "sms_code",
    "callback_url",
];

/// Variables every case defines: the merchant id in use, the target's name, the case name
/// and the scenario's stem.
pub const BUILTIN_VARIABLES: [&str; 4] = ["merchant_id", "target", "case", "scenario"];

/// A template that does not parse or does not render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("failed to parse template `{template}`: {message}")]
    Syntax {
        template: String,
        message: String,
        /// Byte range of the problem inside the template, when minijinja knows it.
        range: Option<std::ops::Range<usize>>,
    },
    #[error("failed to render `{template}`: `{name}` is not defined")]
    Undefined { template: String, name: String },
    #[error("failed to render `{template}`: {message}")]
    Render { template: String, message: String },
}

pub(super) fn syntax_error(source: &str, error: &minijinja::Error) -> TemplateError {
    TemplateError::Syntax {
        template: source.to_owned(),
        message: describe(error),
        range: error.range(),
    }
}

/// minijinja's message without its "(in template:line)" suffix, which names the template by
/// its own text here and would only repeat it.
pub(super) fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => match error.kind() {
            minijinja::ErrorKind::InvalidOperation => detail.to_owned(),
            kind => format!("{kind}: {detail}"),
        },
        None => error.kind().to_string(),
    }
}
