//! Rendering, the fast path against minijinja, generated-value keys and the functions.

use std::sync::Arc;

use super::generators::Generator;
use super::interpolation::{Piece, interpolation};
use super::*;
use crate::scenario::{Case, Scenario};

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
            assert!(prepared.takes_fast_path(source));
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
    assert_eq!(store.missing(), ["order_id.2"]);
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

#[test]
fn callback_url_gives_the_case_its_own_urls_and_is_recorded() {
    let renderer = Renderer::new();
    let mut ctx = context(&[]);
    ctx.set_callback_base("http://127.0.0.1:4000/c1");
    assert_eq!(
        renderer
            .render("{{ callback_url(\"result\") }}", &ctx)
            .unwrap(),
        "http://127.0.0.1:4000/c1/result"
    );
    assert_eq!(
        renderer
            .render("{{ callback_url('check') }}", &ctx)
            .unwrap(),
        "http://127.0.0.1:4000/c1/check"
    );
    // Frozen like generated values, so a replay sends the URL the recording sent.
    assert!(
        ctx.generated()
            .values()
            .iter()
            .any(|(k, v)| k == "callback_url.result" && v == "http://127.0.0.1:4000/c1/result")
    );
}

#[test]
fn callback_url_refuses_unknown_kinds_and_runs_without_a_receiver() {
    let renderer = Renderer::new();
    let mut ctx = context(&[]);
    let error = renderer
        .render("{{ callback_url(\"result\") }}", &ctx)
        .unwrap_err()
        .to_string();
    assert!(error.contains("no callback receiver"), "{error}");
    ctx.set_callback_base("http://h/c");
    let error = renderer
        .render("{{ callback_url(\"refund\") }}", &ctx)
        .unwrap_err()
        .to_string();
    assert!(error.contains("\"result\""), "{error}");
}

#[test]
fn callback_url_on_replay_is_the_recorded_url() {
    let renderer = Renderer::new();
    let ctx = Context::new(Generated::frozen([(
        "callback_url.result",
        "http://127.0.0.1:4000/c1/result",
    )]));
    assert_eq!(
        renderer
            .render("{{ callback_url(\"result\") }}", &ctx)
            .unwrap(),
        "http://127.0.0.1:4000/c1/result"
    );
}

/// Renders every template of every case of the example scenarios (`tests/fixtures/scenarios`)
/// as the runner would: steps in order, each step's
/// captures bound (to stand-in values) before the next step.
#[test]
fn every_example_template_renders_for_every_case() {
    let (scenarios, errors) =
        crate::scenario::load_paths(&[
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios")
        ]);
    assert!(errors.is_empty(), "{errors:#?}");
    let mut renderer = Renderer::new();
    for scenario in &scenarios {
        renderer.prepare(scenario).expect("templates compile");
    }
    for scenario in &scenarios {
        for case in &scenario.cases {
            let mut context =
                Context::for_case(scenario, case, "552170", "emulator", Generated::seeded(1));
            context.set_sms_code(Ok("111111".to_owned()));
            for step in &scenario.steps {
                for template in step.templates() {
                    renderer
                        .render(template.as_str(), &context)
                        .unwrap_or_else(|e| panic!("{}/{}: {e}", scenario.case_id(case), step.id));
                }
                for capture in &step.capture {
                    context.set(capture.variable.as_str(), "captured");
                }
            }
            let generated = context.generated();
            assert!(generated.missing().is_empty());
            if scenario.stem == "receipt_and_sms_code" {
                let keys: Vec<&str> = generated.values().iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(
                    keys,
                    ["order_id.1", "random_digits.1", "uuid.1", "sms_code.1"]
                );
            }
        }
    }
}
