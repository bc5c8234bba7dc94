//! What a template sees: a case's variables (bindings, built-ins, captures, the SMS code the
//! runner looked up) and, hidden, the case's [`Generated`] store.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{Object, Value};

use crate::scenario::{Case, Scenario};

use super::functions::sms_code_answer;
use super::generated::{Generated, lock};

/// The context variable that carries the case's [`Generated`] store to the functions. Its
/// name cannot be written as a scenario variable (names there are checked identifiers
/// without a leading underscore pair).
pub(super) const GENERATED_VAR: &str = "__fph_generated";

/// The context variables holding what `sms_code(phone)` answers in this case: the code the
/// runner looked up for the case's payment, or why it could not. Hidden like
/// [`GENERATED_VAR`]: template functions do no I/O, the runner does it before rendering.
pub(super) const SMS_CODE_VAR: &str = "__fph_sms_code";
pub(super) const SMS_ERROR_VAR: &str = "__fph_sms_error";

/// The context variable holding the case's own address at the run's callback receiver
/// (`http://127.0.0.1:PORT/CASE`), which `callback_url(kind)` extends. Hidden like the rest.
pub(super) const CALLBACK_BASE_VAR: &str = "__fph_callback_base";

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

    /// Where this case's callbacks go: `callback_url("result")` is `{base}/result`.
    pub fn set_callback_base(&mut self, base: impl Into<String>) {
        Arc::make_mut(&mut self.values).insert(CALLBACK_BASE_VAR.to_owned(), base.into());
    }

    /// The answer of `sms_code(phone)` in this case so far.
    pub(super) fn sms_code(&self, phone: &str) -> Result<String, String> {
        sms_code_answer(self.get(SMS_CODE_VAR), self.get(SMS_ERROR_VAR), phone)
    }

    /// The case's generated values (lock held while the guard lives; do not render with
    /// this context meanwhile).
    pub fn generated(&self) -> MutexGuard<'_, Generated> {
        lock(&self.generated)
    }

    pub(super) fn to_value(&self) -> Value {
        Value::from_object(RenderContext {
            values: Arc::clone(&self.values),
            generated: Arc::clone(&self.generated),
        })
    }
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
pub(super) struct GeneratedHandle(pub(super) Arc<Mutex<Generated>>);

impl Object for GeneratedHandle {}
