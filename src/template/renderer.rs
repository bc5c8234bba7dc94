//! Compiling a scenario's templates once and rendering them for a case.

use std::collections::HashMap;
use std::fmt;

use minijinja::Environment;

use crate::scenario::{Scenario, is_templated};

use super::analysis::{referenced_variables, sorted_by_position};
use super::context::Context;
use super::functions::{environment, register};
use super::interpolation::{Piece, interpolation};
use super::{TemplateError, describe, syntax_error};

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
        register(&mut env);
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

    /// True when `source` was prepared and renders by joining its pieces.
    #[cfg(test)]
    pub(super) fn takes_fast_path(&self, source: &str) -> bool {
        self.prepared
            .get(source)
            .is_some_and(|prepared| prepared.interpolation.is_some())
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
