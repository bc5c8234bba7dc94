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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use minijinja::value::{Object, Value};
use minijinja::{AutoEscape, Environment, State, UndefinedBehavior};

use crate::scenario::is_templated;
use crate::scenario::{Case, SECRET_KEY_VAR, Scenario};

/// The functions templates may call.
pub const FUNCTIONS: [&str; 7] = [
    "order_id",
    "uuid",
    "salt",
    "now",
    "random_digits",
    "env",
    "sms_code",
];

/// Variables every case defines: the merchant id in use, the target's name, the case name
/// and the scenario's stem.
pub const BUILTIN_VARIABLES: [&str; 4] = ["merchant_id", "target", "case", "scenario"];

/// The context variable that carries the case's [`Generated`] store to the functions. Its
/// name cannot be written as a scenario variable (names there are checked identifiers
/// without a leading underscore pair).
const GENERATED_VAR: &str = "__fph_generated";

/// The context variables holding what `sms_code(phone)` answers in this case: the code the
/// runner looked up for the case's payment, or why it could not. Hidden like
/// [`GENERATED_VAR`]: template functions do no I/O, the runner does it before rendering.
const SMS_CODE_VAR: &str = "__fph_sms_code";
const SMS_ERROR_VAR: &str = "__fph_sms_error";

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

/// The values generated for one case, keyed as described in the module doc; fresh, or frozen
/// to the values a cassette recorded.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Every value handed out in this case, in the order first asked for: what a recorder
    /// writes as the cassette's `bindings`.
    values: Vec<(String, String)>,
    /// The recording, when replaying.
    recorded: Option<HashMap<String, String>>,
    counters: HashMap<String, u32>,
    /// Keys asked for on replay that the recording does not have.
    missing: Vec<String>,
    rng: fastrand::Rng,
}

impl Default for Generated {
    fn default() -> Self {
        Generated::fresh()
    }
}

impl Generated {
    /// A store that generates new values (recording and live runs).
    pub fn fresh() -> Generated {
        Generated::with_rng(fastrand::Rng::new(), None)
    }

    /// Like [`fresh`](Self::fresh) but reproducible: the same seed gives the same values.
    pub fn seeded(seed: u64) -> Generated {
        Generated::with_rng(fastrand::Rng::with_seed(seed), None)
    }

    /// A store that returns the recorded values (replay). A key the recording lacks still
    /// gets a fresh value, and is listed by [`missing`](Self::missing) so the runner can fail
    /// the case with a clear message instead of a confusing request mismatch.
    pub fn frozen<K: Into<String>, V: Into<String>>(
        recorded: impl IntoIterator<Item = (K, V)>,
    ) -> Generated {
        let recorded = recorded
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Generated::with_rng(fastrand::Rng::new(), Some(recorded))
    }

    fn with_rng(rng: fastrand::Rng, recorded: Option<HashMap<String, String>>) -> Generated {
        Generated {
            values: Vec::new(),
            recorded,
            counters: HashMap::new(),
            missing: Vec::new(),
            rng,
        }
    }

    /// True when replaying a recording.
    pub fn is_frozen(&self) -> bool {
        self.recorded.is_some()
    }

    /// The value of the next counted call of `function` (key `function.N`).
    fn counted(
        &mut self,
        function: &str,
        make: impl FnOnce(&mut fastrand::Rng) -> Result<String, String>,
    ) -> Result<String, String> {
        let key = self.next_key(function);
        self.value(&key, make)
    }

    /// The next counted key for `function`: `order_id.1`, then `order_id.2`, …
    pub fn next_key(&mut self, function: &str) -> String {
        let counter = self.counters.entry(function.to_owned()).or_insert(0);
        *counter += 1;
        format!("{function}.{counter}")
    }

    /// The value under `key`: the one already handed out in this case, else the recorded
    /// one, else a new one from `make`. The value is remembered under `key` either way.
    pub fn value(
        &mut self,
        key: &str,
        make: impl FnOnce(&mut fastrand::Rng) -> Result<String, String>,
    ) -> Result<String, String> {
        if let Some((_, value)) = self.values.iter().find(|(k, _)| k == key) {
            return Ok(value.clone());
        }
        let value = match self.recorded.as_ref().and_then(|r| r.get(key)) {
            Some(value) => value.clone(),
            None => {
                if self.recorded.is_some() {
                    self.missing.push(key.to_owned());
                }
                make(&mut self.rng)?
            }
        };
        self.values.push((key.to_owned(), value.clone()));
        Ok(value)
    }

    /// Every value handed out in this case, in order.
    pub fn values(&self) -> &[(String, String)] {
        &self.values
    }

    /// Keys asked for on replay that the recording did not have.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// Recorded keys this case never asked for (the scenario changed since recording).
    pub fn unused(&self) -> Vec<String> {
        let Some(recorded) = &self.recorded else {
            return Vec::new();
        };
        let mut unused: Vec<String> = recorded
            .keys()
            .filter(|key| !self.values.iter().any(|(k, _)| k == *key))
            .cloned()
            .collect();
        unused.sort();
        unused
    }
}

/// The variables of one case, and its generated values.
///
/// Cloning shares the [`Generated`] store (both clones count and record into it).
#[derive(Debug, Clone)]
pub struct Context {
    values: Arc<BTreeMap<String, String>>,
    generated: Arc<Mutex<Generated>>,
}

impl Context {
    /// An empty context around a store.
    pub fn new(generated: Generated) -> Context {
        Context {
            values: Arc::new(BTreeMap::new()),
            generated: Arc::new(Mutex::new(generated)),
        }
    }

    /// The context for `case` of `scenario`: its bindings and the built-ins.
    pub fn for_case(
        scenario: &Scenario,
        case: &Case,
        merchant_id: &str,
        target: &str,
        generated: Generated,
    ) -> Context {
        let mut context = Context::new(generated);
        context.set("merchant_id", merchant_id);
        context.set("target", target);
        context.set("case", case.name.as_str());
        context.set("scenario", scenario.stem.as_str());
        for (name, value) in &case.bindings {
            context.set(name.as_str(), value.as_str());
        }
        context
    }

    /// Binds a variable (a capture, or a built-in), replacing an earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        Arc::make_mut(&mut self.values).insert(name.into(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// What `sms_code(phone)` answers from now on in this case: the code the target sent for
    /// the case's payment, or why there is none (shown to the user).
    pub fn set_sms_code(&mut self, code: Result<String, String>) {
        let values = Arc::make_mut(&mut self.values);
        match code {
            Ok(code) => {
                values.remove(SMS_ERROR_VAR);
                values.insert(SMS_CODE_VAR.to_owned(), code);
            }
            Err(why) => {
                values.remove(SMS_CODE_VAR);
                values.insert(SMS_ERROR_VAR.to_owned(), why);
            }
        }
    }

    /// The answer of `sms_code(phone)` in this case so far.
    fn sms_code(&self, phone: &str) -> Result<String, String> {
        sms_code_answer(self.get(SMS_CODE_VAR), self.get(SMS_ERROR_VAR), phone)
    }

    /// The case's generated values (lock held while the guard lives; do not render with
    /// this context meanwhile).
    pub fn generated(&self) -> MutexGuard<'_, Generated> {
        lock(&self.generated)
    }

    fn to_value(&self) -> Value {
        Value::from_object(RenderContext {
            values: Arc::clone(&self.values),
            generated: Arc::clone(&self.generated),
        })
    }
}

/// A poisoned lock only means another render panicked; the store itself stays consistent
/// (every update is a single push), so keep using it.
fn lock(store: &Mutex<Generated>) -> MutexGuard<'_, Generated> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a template sees as its root: the variables, plus the hidden store handle.
#[derive(Debug)]
struct RenderContext {
    values: Arc<BTreeMap<String, String>>,
    generated: Arc<Mutex<Generated>>,
}

impl Object for RenderContext {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        if key == GENERATED_VAR {
            return Some(Value::from_object(GeneratedHandle(Arc::clone(
                &self.generated,
            ))));
        }
        self.values.get(key).map(|v| Value::from(v.as_str()))
    }
}

#[derive(Debug)]
struct GeneratedHandle(Arc<Mutex<Generated>>);

impl Object for GeneratedHandle {}

/// Runs `f` on the store of the case being rendered.
fn with_store<R>(
    state: &State,
    f: impl FnOnce(&mut Generated) -> Result<R, String>,
) -> Result<R, minijinja::Error> {
    let handle = state
        .lookup(GENERATED_VAR)
        .ok_or_else(|| function_error("template functions need a case context".into()))?;
    let handle = handle
        .downcast_object_ref::<GeneratedHandle>()
        .ok_or_else(|| function_error("template functions need a case context".into()))?;
    let mut store = lock(&handle.0);
    f(&mut store).map_err(function_error)
}

fn function_error(message: String) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message)
}

/// A counted generator: `order_id()`, `uuid()`, …
fn counted(
    state: &State,
    function: &str,
    make: impl FnOnce(&mut fastrand::Rng) -> Result<String, String>,
) -> Result<String, minijinja::Error> {
    with_store(state, |store| store.counted(function, make))
}

/// The functions that take no argument, each a counted generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generator {
    OrderId,
    Uuid,
    Salt,
    Now,
}

impl Generator {
    const ALL: [Generator; 4] = [
        Generator::OrderId,
        Generator::Uuid,
        Generator::Salt,
        Generator::Now,
    ];

    fn name(self) -> &'static str {
        match self {
            Generator::OrderId => "order_id",
            Generator::Uuid => "uuid",
            Generator::Salt => "salt",
            Generator::Now => "now",
        }
    }

    fn named(name: &str) -> Option<Generator> {
        Generator::ALL.into_iter().find(|g| g.name() == name)
    }

    fn make(self, rng: &mut fastrand::Rng) -> Result<String, String> {
        match self {
            Generator::OrderId => Ok(format!("fph-{}", lowercase_alphanumeric(rng, 12))),
            Generator::Uuid => Ok(uuid_v4(rng)),
            Generator::Salt => Ok((0..16).map(|_| rng.alphanumeric()).collect()),
            Generator::Now => {
                let seconds = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_err(|_| "the system clock is before 1970".to_owned())?
                    .as_secs();
                Ok(crate::utc::gateway_format(seconds as i64))
            }
        }
    }
}

/// `sms_code(phone)`: the code the runner looked up for the case, or why it could not.
fn sms_code_answer(code: Option<&str>, error: Option<&str>, phone: &str) -> Result<String, String> {
    match (code, error) {
        (Some(code), _) => Ok(code.to_owned()),
        (None, Some(why)) => Err(format!("sms_code({phone}): {why}")),
        (None, None) => Err(format!(
            "sms_code({phone}): no SMS code source for this run (nothing was recorded for it)"
        )),
    }
}

/// Renders scenario templates; one per run, shared by every case (it is `Send + Sync`).
pub struct Renderer {
    env: Environment<'static>,
    /// Prepared templates, by their text.
    prepared: HashMap<String, Prepared>,
}

/// What rendering a prepared template needs to know before it starts.
struct Prepared {
    /// The variables it references, in order of first appearance.
    variables: Vec<String>,
    /// Set when the template is only text, variables and plain calls (`{{ payment_id }}`,
    /// `Top-up via {{ operator }}`, `{{ order_id() }}`, `{{ sms_code(phone) }}`): most form
    /// fields and expectations are, and their value is the text with each value put in,
    /// which joining gives without starting minijinja's machine (it cost a third of a live
    /// step's CPU, and a call through it still a tenth of a live run's).
    interpolation: Option<Vec<Piece>>,
}

/// A part of a template that is only text, variables and plain calls.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Variable(String),
    /// `{{ order_id() }}` and the other argument-less generators.
    Generate(Generator),
    /// `{{ sms_code(phone) }}`, the argument a variable.
    SmsCode {
        phone: String,
    },
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renderer")
            .field("prepared", &self.prepared.len())
            .finish_non_exhaustive()
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

impl Renderer {
    /// A renderer; `sms_code(phone)` answers what the case context holds
    /// ([`Context::set_sms_code`]), or the recorded code on replay.
    pub fn new() -> Renderer {
        let mut env = environment();
        for generator in Generator::ALL {
            env.add_function(generator.name(), move |state: &State| {
                counted(state, generator.name(), |rng| generator.make(rng))
            });
        }
        env.add_function("random_digits", |state: &State, n: i64| {
            counted(state, "random_digits", |rng| {
                if !(1..=64).contains(&n) {
                    return Err(format!("random_digits(n) takes n from 1 to 64, not {n}"));
                }
                Ok((0..n).map(|_| rng.digit(10)).collect())
            })
        });
        env.add_function("env", |state: &State, name: String| {
            // The loader refuses the literal call; a computed name is refused here.
            if name == SECRET_KEY_VAR {
                return Err(function_error(secret_refused()));
            }
            with_store(state, |store| {
                store.value(&format!("env.{name}"), |_| {
                    std::env::var(&name)
                        .map_err(|_| format!("environment variable `{name}` is not set"))
                })
            })
        });
        env.add_function("sms_code", |state: &State, phone: String| {
            let code = state.lookup(SMS_CODE_VAR);
            let error = state.lookup(SMS_ERROR_VAR);
            counted(state, "sms_code", |_| {
                sms_code_answer(
                    code.as_ref().and_then(Value::as_str),
                    error.as_ref().and_then(Value::as_str),
                    &phone,
                )
            })
        });
        Renderer {
            env,
            prepared: HashMap::new(),
        }
    }

    /// Compiles every template of `scenario` once.
    pub fn prepare(&mut self, scenario: &Scenario) -> Result<(), TemplateError> {
        for template in scenario.templates() {
            self.prepare_template(template.as_str())?;
        }
        Ok(())
    }

    /// Compiles one template once (plain text needs no compiling).
    pub fn prepare_template(&mut self, source: &str) -> Result<(), TemplateError> {
        if !is_templated(source) || self.prepared.contains_key(source) {
            return Ok(());
        }
        self.env
            .add_template_owned(source.to_owned(), source.to_owned())
            .map_err(|e| syntax_error(source, &e))?;
        let template = self
            .env
            .get_template(source)
            .map_err(|e| syntax_error(source, &e))?;
        let variables = self.variables_of(source, &template);
        // Names that are not variables (`true`, `none`) are literals minijinja prints its way.
        let interpolation = interpolation(source).filter(|pieces| {
            pieces.iter().all(|piece| match piece {
                Piece::Text(_) | Piece::Generate(_) => true,
                Piece::Variable(name) | Piece::SmsCode { phone: name } => variables.contains(name),
            })
        });
        self.prepared.insert(
            source.to_owned(),
            Prepared {
                variables,
                interpolation,
            },
        );
        Ok(())
    }

    fn variables_of(&self, source: &str, template: &minijinja::Template<'_, '_>) -> Vec<String> {
        let globals: Vec<&str> = self.env.globals().map(|(name, _)| name).collect();
        sorted_by_position(
            source,
            template
                .undeclared_variables(false)
                .into_iter()
                .filter(|name| !globals.contains(&name.as_str()))
                .collect(),
        )
    }

    /// Renders `template` with the variables and store of `context`.
    pub fn render(&self, template: &str, context: &Context) -> Result<String, TemplateError> {
        if !is_templated(template) {
            return Ok(template.to_owned());
        }
        let render_error = |e: minijinja::Error| TemplateError::Render {
            template: template.to_owned(),
            message: describe(&e),
        };
        let check_defined = |variables: &[String]| match variables
            .iter()
            .find(|name| context.get(name).is_none())
        {
            Some(name) => Err(TemplateError::Undefined {
                template: template.to_owned(),
                name: name.clone(),
            }),
            None => Ok(()),
        };
        match self.prepared.get(template) {
            Some(Prepared {
                variables,
                interpolation: Some(pieces),
            }) => {
                check_defined(variables)?;
                let mut text = String::new();
                for piece in pieces {
                    let generated = match piece {
                        Piece::Text(literal) => {
                            text.push_str(literal);
                            continue;
                        }
                        Piece::Variable(name) => {
                            text.push_str(context.get(name).unwrap_or_default());
                            continue;
                        }
                        Piece::Generate(generator) => context
                            .generated()
                            .counted(generator.name(), |rng| generator.make(rng)),
                        Piece::SmsCode { phone } => {
                            let phone = context.get(phone).unwrap_or_default();
                            let answer = context.sms_code(phone);
                            context.generated().counted("sms_code", |_| answer)
                        }
                    };
                    // minijinja reports a function's failure by its message alone.
                    text.push_str(&generated.map_err(|message| TemplateError::Render {
                        template: template.to_owned(),
                        message,
                    })?);
                }
                Ok(text)
            }
            Some(Prepared { variables, .. }) => {
                check_defined(variables)?;
                let compiled = self
                    .env
                    .get_template(template)
                    .map_err(|e| syntax_error(template, &e))?;
                compiled.render(context.to_value()).map_err(render_error)
            }
            None => {
                check_defined(&referenced_variables(template)?)?;
                self.env
                    .render_str(template, context.to_value())
                    .map_err(|e| match e.kind() {
                        minijinja::ErrorKind::SyntaxError => syntax_error(template, &e),
                        _ => render_error(e),
                    })
            }
        }
    }
}

/// `source` as text, variables and plain calls when that is all it is: every tag is
/// `{{ name }}`, `{{ generator() }}` or `{{ sms_code(name) }}` (spaces optional; no filter,
/// other call, whitespace control, block or comment). Such a template renders to its text
/// with each value put in.
fn interpolation(source: &str) -> Option<Vec<Piece>> {
    if source.contains("{%") || source.contains("{#") {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = source;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        pieces.push(tag(after[..close].trim_matches(' '))?);
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Some(pieces)
}

/// The piece a tag's inside (`name`, `order_id()`, `sms_code(phone)`) stands for.
fn tag(inside: &str) -> Option<Piece> {
    if is_identifier(inside) {
        return Some(Piece::Variable(inside.to_owned()));
    }
    let (function, rest) = inside.split_once('(')?;
    let argument = rest.strip_suffix(')')?.trim_matches(' ');
    match (function.trim_end_matches(' '), argument) {
        ("sms_code", phone) if is_identifier(phone) => Some(Piece::SmsCode {
            phone: phone.to_owned(),
        }),
        (name, "") => Generator::named(name).map(Piece::Generate),
        _ => None,
    }
}

/// The environment settings shared by rendering and checking.
fn environment<'s>() -> Environment<'s> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Keep values byte-exact: a block scalar's final newline is part of the field.
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .expect("default delimiters are valid");
    env.set_syntax(syntax);
    env
}

/// Why `env("FREEDOMPAY_SECRET_KEY")` is refused.
pub(crate) fn secret_refused() -> String {
    format!(
        "env(\"{SECRET_KEY_VAR}\") is refused: the merchant secret only signs requests and must never be sent as a value, recorded or reported"
    )
}

/// The byte range of an `env("FREEDOMPAY_SECRET_KEY")` call in `source` (either quotes, any
/// spacing), so the loader can refuse it before anything runs.
pub(crate) fn secret_env_call(source: &str) -> Option<std::ops::Range<usize>> {
    static CALL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&format!(r#"\benv\s*\(\s*["']{SECRET_KEY_VAR}["']\s*\)"#))
            .expect("a valid pattern")
    });
    if !is_templated(source) {
        return None;
    }
    CALL.find(source).map(|m| m.range())
}

/// The variables `source` reads, in order of first appearance; function names (the harness's
/// and minijinja's built-in `range`, `dict`, …) do not count. Used by the loader to report
/// undefined variables before anything runs.
pub(crate) fn referenced_variables(source: &str) -> Result<Vec<String>, TemplateError> {
    if !is_templated(source) {
        return Ok(Vec::new());
    }
    let env = environment();
    let template = env
        .template_from_str(source)
        .map_err(|e| syntax_error(source, &e))?;
    let globals: Vec<&str> = env.globals().map(|(name, _)| name).collect();
    Ok(sorted_by_position(
        source,
        template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !globals.contains(&name.as_str()) && !FUNCTIONS.contains(&name.as_str()))
            .collect(),
    ))
}

/// Calls `source` makes that cannot work whatever the values: an unknown filter, test or
/// function, or a function given the wrong number of arguments (`sms_code()` without a
/// phone). Checked by rendering once in an environment whose functions have the real ones'
/// signatures but do nothing, with every variable in `variables` bound to `"0"`; only those
/// kinds of error count, since the placeholder values may well upset other expressions.
pub(crate) fn check_calls(source: &str, variables: &[String]) -> Result<(), String> {
    if !is_templated(source) {
        return Ok(());
    }
    let mut env = environment();
    for generator in ["order_id", "uuid", "salt", "now"] {
        env.add_function(generator, String::new);
    }
    env.add_function("random_digits", |_: i64| String::new());
    env.add_function("env", |_: String| String::new());
    env.add_function("sms_code", |_: String| String::new());
    let Ok(template) = env.template_from_str(source) else {
        // Syntax errors are reported by `referenced_variables`, with their place.
        return Ok(());
    };
    let context: BTreeMap<&str, &str> = variables.iter().map(|v| (v.as_str(), "0")).collect();
    match template.render(context) {
        Err(error)
            if matches!(
                error.kind(),
                minijinja::ErrorKind::UnknownFilter
                    | minijinja::ErrorKind::UnknownTest
                    | minijinja::ErrorKind::UnknownFunction
                    | minijinja::ErrorKind::MissingArgument
                    | minijinja::ErrorKind::TooManyArguments
            ) =>
        {
            Err(describe(&error))
        }
        _ => Ok(()),
    }
}

fn sorted_by_position(source: &str, mut names: Vec<String>) -> Vec<String> {
    names.sort_by_key(|name| {
        (
            find_identifier(source, name).unwrap_or(usize::MAX),
            name.clone(),
        )
    });
    names
}

/// True for a name a template can use as a variable: ASCII letters, digits and `_`, not
/// starting with a digit.
pub(crate) fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The byte offset of `name` as a whole identifier in `source`.
pub(crate) fn find_identifier(source: &str, name: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    source.match_indices(name).map(|(i, _)| i).find(|&i| {
        let before = source[..i].chars().next_back();
        let after = source[i + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn syntax_error(source: &str, error: &minijinja::Error) -> TemplateError {
    TemplateError::Syntax {
        template: source.to_owned(),
        message: describe(error),
        range: error.range(),
    }
}

/// minijinja's message without its "(in template:line)" suffix, which names the template by
/// its own text here and would only repeat it.
fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => match error.kind() {
            minijinja::ErrorKind::InvalidOperation => detail.to_owned(),
            kind => format!("{kind}: {detail}"),
        },
        None => error.kind().to_string(),
    }
}

fn lowercase_alphanumeric(rng: &mut fastrand::Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
        .collect()
}

fn uuid_v4(rng: &mut fastrand::Rng) -> String {
    let mut bytes = rng.u128(..).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(values: &[(&str, &str)]) -> Context {
        let mut context = Context::new(Generated::seeded(7));
        for (k, v) in values {
            context.set(*k, *v);
        }
        context
    }

    #[test]
    fn variables_render_and_plain_text_passes_through() {
        let renderer = Renderer::new();
        let ctx = context(&[("amount", "150.00"), ("operator", "KCELLKZT")]);
        assert_eq!(renderer.render("{{ amount }}", &ctx).unwrap(), "150.00");
        assert_eq!(
            renderer.render("Top-up via {{ operator }}", &ctx).unwrap(),
            "Top-up via KCELLKZT"
        );
        assert_eq!(renderer.render("no template", &ctx).unwrap(), "no template");
        assert_eq!(renderer.render("line\n", &ctx).unwrap(), "line\n");
        assert_eq!(renderer.render("{{ amount }}\n", &ctx).unwrap(), "150.00\n");
    }

    #[test]
    fn prepared_interpolations_render_as_minijinja_would() {
        let ctx = context(&[
            ("amount", "150.00"),
            ("text", " <a & 'b'>\n"),
            ("true", "x"),
        ]);
        let unprepared = Renderer::new();
        let mut prepared = Renderer::new();
        for source in [
            "{{ amount }}",
            "{{amount}}",
            "{{ text }}",
            "Top-up of {{ amount }} KZT: {{text}}\n",
            "{{ amount }}{{ amount }}",
            "a }} b {{ amount }}",
            "{{ true }}",
            "{{ true }} {{ amount }}",
            "{{ amount|length }}",
            "{{- amount }}",
            "{% if amount %}{{ amount }}{% endif %}",
        ] {
            prepared.prepare_template(source).unwrap();
            assert_eq!(
                prepared.render(source, &ctx),
                unprepared.render(source, &ctx),
                "{source}"
            );
        }
        let undefined = "Top-up via {{ operator }}";
        prepared.prepare_template(undefined).unwrap();
        assert_eq!(
            prepared.render(undefined, &ctx),
            unprepared.render(undefined, &ctx)
        );
        let var = |name: &str| Piece::Variable(name.into());
        let text = |text: &str| Piece::Text(text.into());
        assert_eq!(interpolation("{{ amount }}"), Some(vec![var("amount")]));
        assert_eq!(
            interpolation("via {{ a }}, {{b}}!"),
            Some(vec![
                text("via "),
                var("a"),
                text(", "),
                var("b"),
                text("!")
            ])
        );
        assert_eq!(interpolation("no tags"), Some(vec![text("no tags")]));
        assert_eq!(
            interpolation("{{ order_id() }}-{{sms_code( phone )}}"),
            Some(vec![
                Piece::Generate(Generator::OrderId),
                text("-"),
                Piece::SmsCode {
                    phone: "phone".into()
                }
            ])
        );
        for not_plain in [
            "{{ amount|length }}",
            "{{ random_digits(4) }}",
            "{{ sms_code(\"7701\") }}",
            "{{ sms_code() }}",
            "{{ order_id(1) }}",
            "{{ nothing() }}",
            "{{ 1a }}",
            "{{- a }}",
            "{{ a }",
            "{% if a %}x{% endif %}",
            "{# note #}{{ a }}",
        ] {
            assert_eq!(interpolation(not_plain), None, "{not_plain}");
        }
    }

    #[test]
    fn prepared_calls_generate_as_minijinja_would() {
        let sources = [
            "{{ order_id() }}",
            "{{ uuid() }}/{{ salt() }}/{{ order_id() }}",
            "{{ sms_code(phone) }}",
            "code {{ sms_code( phone ) }} for {{ order_id () }}",
        ];
        let answers = [
            Some(Ok("4321".to_owned())),
            Some(Err("no code was sent".to_owned())),
            None,
        ];
        for answer in answers {
            let unprepared = Renderer::new();
            let mut prepared = Renderer::new();
            let (mut slow, mut fast) = (
                context(&[("phone", "77017777777")]),
                context(&[("phone", "77017777777")]),
            );
            if let Some(answer) = &answer {
                slow.set_sms_code(answer.clone());
                fast.set_sms_code(answer.clone());
            }
            for source in sources {
                prepared.prepare_template(source).unwrap();
                assert!(prepared.prepared[source].interpolation.is_some());
                assert_eq!(
                    prepared.render(source, &fast),
                    unprepared.render(source, &slow),
                    "{source} with {answer:?}"
                );
            }
            // The same keys, counted the same way, hold the same values.
            assert_eq!(fast.generated().values(), slow.generated().values());
        }
    }

    #[test]
    fn nothing_is_html_escaped() {
        let renderer = Renderer::new();
        let ctx = context(&[("text", "<a & 'b'>")]);
        // A name ending in .html would switch on escaping with minijinja's defaults.
        assert_eq!(
            renderer.render("{{ text }} index.html", &ctx).unwrap(),
            "<a & 'b'> index.html"
        );
    }

    #[test]
    fn undefined_variables_are_errors_naming_them() {
        let mut renderer = Renderer::new();
        let ctx = context(&[]);
        let expected = TemplateError::Undefined {
            template: "{{ payment_id }}".into(),
            name: "payment_id".into(),
        };
        assert_eq!(
            renderer.render("{{ payment_id }}", &ctx),
            Err(expected.clone())
        );
        renderer.prepare_template("{{ payment_id }}").unwrap();
        assert_eq!(renderer.render("{{ payment_id }}", &ctx), Err(expected));
    }

    #[test]
    fn syntax_errors_are_reported() {
        let mut renderer = Renderer::new();
        let error = renderer.prepare_template("{{ amount ").unwrap_err();
        assert!(matches!(error, TemplateError::Syntax { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("failed to parse template `{{ amount `: syntax error"),
            "{error}"
        );
        let error = renderer.render("{{ amount ", &context(&[])).unwrap_err();
        assert!(matches!(error, TemplateError::Syntax { .. }), "{error:?}");
    }

    #[test]
    fn generated_values_are_keyed_per_function_in_call_order() {
        let renderer = Renderer::new();
        let ctx = context(&[]);
        let first = renderer.render("{{ order_id() }}", &ctx).unwrap();
        let second = renderer.render("{{ order_id() }}", &ctx).unwrap();
        let uuid = renderer.render("{{ uuid() }}", &ctx).unwrap();
        let salt = renderer.render("{{ salt() }}", &ctx).unwrap();
        let digits = renderer.render("{{ random_digits(6) }}", &ctx).unwrap();
        assert_ne!(first, second);
        assert!(first.starts_with("fph-") && first.len() == 16, "{first}");
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "{uuid}");
        assert_eq!(salt.len(), 16);
        assert!(salt.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(digits.len(), 6);
        assert!(digits.chars().all(|c| c.is_ascii_digit()));
        let store = ctx.generated();
        let keys: Vec<&str> = store.values().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "order_id.1",
                "order_id.2",
                "uuid.1",
                "salt.1",
                "random_digits.1"
            ]
        );
        assert_eq!(store.values()[0].1, first);
    }

    #[test]
    fn seeded_stores_repeat_their_values() {
        let renderer = Renderer::new();
        let a = renderer.render("{{ order_id() }}", &context(&[])).unwrap();
        let b = renderer.render("{{ order_id() }}", &context(&[])).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_frozen_store_returns_recorded_values_and_reports_missing_ones() {
        let renderer = Renderer::new();
        let ctx = Context::new(Generated::frozen([
            ("order_id.1", "ord-7f3a9c"),
            ("sms_code.1", "111111"),
            ("now.1", "2026-11-23 10:00:00"),
            ("stale.1", "x"),
        ]));
        assert_eq!(
            renderer.render("{{ order_id() }}", &ctx).unwrap(),
            "ord-7f3a9c"
        );
        // Recorded: the provider (absent on replay) is never asked.
        assert_eq!(
            renderer
                .render("{{ sms_code('77017777777') }}", &ctx)
                .unwrap(),
            "111111"
        );
        assert_eq!(
            renderer.render("{{ now() }}", &ctx).unwrap(),
            "2026-11-23 10:00:00"
        );
        let fresh = renderer.render("{{ order_id() }}", &ctx).unwrap();
        assert!(fresh.starts_with("fph-"));
        let store = ctx.generated();
        assert!(store.is_frozen());
        assert_eq!(store.missing(), ["order_id.2"]);
        assert_eq!(store.unused(), ["stale.1"]);
    }

    #[test]
    fn the_runner_can_keep_its_own_values() {
        let mut store = Generated::frozen([("salt.init", "Jk2mQ9xZ")]);
        assert_eq!(
            store.value("salt.init", |_| Ok("new".into())).unwrap(),
            "Jk2mQ9xZ"
        );
        assert_eq!(
            store.value("salt.pay", |_| Ok("fresh".into())).unwrap(),
            "fresh"
        );
        assert_eq!(
            store.value("salt.pay", |_| Ok("again".into())).unwrap(),
            "fresh"
        );
        assert_eq!(store.missing(), ["salt.pay"]);
    }

    #[test]
    fn sms_code_answers_what_the_runner_looked_up() {
        let renderer = Renderer::new();
        let mut ctx = context(&[("phone", "77017777777")]);
        assert!(renderer.render("{{ sms_code(phone) }}", &ctx).is_err());
        ctx.set_sms_code(Ok("111111".to_owned()));
        assert_eq!(
            renderer.render("{{ sms_code(phone) }}", &ctx).unwrap(),
            "111111"
        );
        let mut ctx = context(&[("phone", "77017777777")]);
        ctx.set_sms_code(Err("no code was sent".to_owned()));
        let error = renderer
            .render("{{ sms_code('77000000000') }}", &ctx)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "failed to render `{{ sms_code('77000000000') }}`: sms_code(77000000000): no code was sent"
        );
    }

    #[test]
    fn env_reads_variables_and_names_unset_ones() {
        let renderer = Renderer::new();
        let ctx = context(&[]);
        // PATH is set in every test environment; nothing here sets variables, which would
        // race with other tests.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(renderer.render("{{ env('PATH') }}", &ctx).unwrap(), path);
        let error = renderer
            .render("{{ env('FPH_TEST_SURELY_UNSET_VARIABLE') }}", &ctx)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("environment variable `FPH_TEST_SURELY_UNSET_VARIABLE` is not set"),
            "{error}"
        );
        assert_eq!(ctx.generated().values()[0].0, "env.PATH");
        let frozen = Context::new(Generated::frozen([(
            "env.FPH_TEST_SURELY_UNSET_VARIABLE",
            "x",
        )]));
        assert_eq!(
            renderer
                .render("{{ env('FPH_TEST_SURELY_UNSET_VARIABLE') }}", &frozen)
                .unwrap(),
            "x"
        );
    }

    #[test]
    fn random_digits_checks_its_argument() {
        let renderer = Renderer::new();
        let error = renderer
            .render("{{ random_digits(0) }}", &context(&[]))
            .unwrap_err();
        assert!(
            error.to_string().contains("takes n from 1 to 64"),
            "{error}"
        );
    }

    #[test]
    fn now_is_utc_in_the_gateway_format() {
        let renderer = Renderer::new();
        let now = renderer.render("{{ now() }}", &context(&[])).unwrap();
        assert_eq!(now.len(), 19, "{now}");
        assert_eq!(&now[4..5], "-");
        assert_eq!(&now[10..11], " ");
    }

    #[test]
    fn referenced_variables_ignore_functions() {
        assert_eq!(
            referenced_variables(
                "{{ order_id() }}-{{ phone }} {{ range(3) | length }} {{ amount | upper }}"
            )
            .unwrap(),
            ["phone", "amount"]
        );
        assert_eq!(
            referenced_variables("{{ sms_code(phone) }}").unwrap(),
            ["phone"]
        );
        assert_eq!(
            referenced_variables("{{ orderid() }}").unwrap(),
            ["orderid"]
        );
        assert!(referenced_variables("plain").unwrap().is_empty());
        assert!(matches!(
            referenced_variables("{{ x"),
            Err(TemplateError::Syntax { .. })
        ));
    }

    #[test]
    fn case_context_has_builtins_and_bindings() {
        let scenario = Scenario {
            name: "n".into(),
            file: "s.yaml".into(),
            stem: "kcell".into(),
            tags: vec![],
            vars: vec![],
            cases: vec![],
            steps: vec![],
            source: Arc::from(""),
        };
        let case = Case {
            name: "operator=KCELLKZT".into(),
            bindings: vec![("operator".into(), "KCELLKZT".into())],
            encoding: None,
            span: crate::scenario::Span::UNKNOWN,
        };
        let ctx = Context::for_case(&scenario, &case, "552170", "emulator", Generated::fresh());
        let renderer = Renderer::new();
        assert_eq!(
            renderer
                .render(
                    "{{ scenario }}/{{ case }} {{ merchant_id }}@{{ target }} {{ operator }}",
                    &ctx
                )
                .unwrap(),
            "kcell/operator=KCELLKZT 552170@emulator KCELLKZT"
        );
    }
}
