//! What can be known of a template without rendering it for a case: the variables it reads,
//! calls that cannot work, an `env()` call that would read the secret key. The loader uses it
//! to refuse a scenario before anything runs.

use std::collections::BTreeMap;

use crate::scenario::{SECRET_KEY_VAR, is_templated};

use super::functions::{environment, register_stubs};
use super::{FUNCTIONS, TemplateError, describe, syntax_error};

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
    register_stubs(&mut env);
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

pub(super) fn sorted_by_position(source: &str, mut names: Vec<String>) -> Vec<String> {
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
