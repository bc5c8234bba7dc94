//! The harness's template functions as minijinja sees them (`order_id()`, `random_digits(n)`,
//! `env("NAME")`, `sms_code(phone)`, `callback_url(kind)`, …): each draws from, or records
//! into, the case's [`Generated`] store, and `env` never reads the secret key.

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, State, UndefinedBehavior};

use crate::scenario::SECRET_KEY_VAR;

use super::context::{
    CALLBACK_BASE_VAR, GENERATED_VAR, GeneratedHandle, SMS_CODE_VAR, SMS_ERROR_VAR,
};
use super::generated::{Generated, lock};
use super::generators::Generator;

/// The environment settings shared by rendering and checking.
pub(super) fn environment<'s>() -> Environment<'s> {
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

/// Adds the harness's functions to `env`.
pub(super) fn register(env: &mut Environment<'_>) {
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
    env.add_function("callback_url", |state: &State, kind: String| {
        let base = state.lookup(CALLBACK_BASE_VAR);
        // Recorded like a generated value, so a replay sends the URL the recording sent.
        with_store(state, |store| {
            store.value(&format!("callback_url.{kind}"), |_| {
                callback_url(base.as_ref().and_then(Value::as_str), &kind)
            })
        })
    });
}

/// `callback_url(kind)`: the case's URL at the run's callback receiver for `result` or
/// `check`; its last segment is the script name the callback is signed with.
pub(super) fn callback_url(base: Option<&str>, kind: &str) -> Result<String, String> {
    if !matches!(kind, "result" | "check") {
        return Err(format!(
            "callback_url(\"{kind}\"): the callbacks are \"result\" (pg_result_url) and \"check\" (pg_check_url)"
        ));
    }
    match base {
        Some(base) => Ok(format!("{base}/{kind}")),
        None => Err(format!(
            "callback_url(\"{kind}\"): this run has no callback receiver"
        )),
    }
}

/// Adds functions with the real ones' signatures that do nothing, for checking calls.
pub(super) fn register_stubs(env: &mut Environment<'_>) {
    for generator in Generator::ALL {
        env.add_function(generator.name(), String::new);
    }
    env.add_function("random_digits", |_: i64| String::new());
    env.add_function("env", |_: String| String::new());
    env.add_function("sms_code", |_: String| String::new());
    env.add_function("callback_url", |_: String| String::new());
}

/// Runs `f` on the store of the case being rendered.
pub(super) fn with_store<R>(
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

pub(super) fn function_error(message: String) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message)
}

/// A counted generator: `order_id()`, `uuid()`, …
pub(super) fn counted(
    state: &State,
    function: &str,
    make: impl FnOnce(&mut fastrand::Rng) -> Result<String, String>,
) -> Result<String, minijinja::Error> {
    with_store(state, |store| store.counted(function, make))
}

/// `sms_code(phone)`: the code the runner looked up for the case, or why it could not.
pub(super) fn sms_code_answer(
    code: Option<&str>,
    error: Option<&str>,
    phone: &str,
) -> Result<String, String> {
    match (code, error) {
        (Some(code), _) => Ok(code.to_owned()),
        (None, Some(why)) => Err(format!("sms_code({phone}): {why}")),
        (None, None) => Err(format!(
            "sms_code({phone}): no SMS code source for this run (nothing was recorded for it)"
        )),
    }
}

/// Why `env("FREEDOMPAY_SECRET_KEY")` is refused.
pub(crate) fn secret_refused() -> String {
    format!(
        "env(\"{SECRET_KEY_VAR}\") is refused: the merchant secret only signs requests and must never be sent as a value, recorded or reported"
    )
}
