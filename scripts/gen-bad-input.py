#!/usr/bin/env python3
"""Writes the bad-input corpus under tests/bad_input/ (scenarios, configs, cassettes,
emulator configurations) from the mutations below. The expected exit code and diagnostic
headline of each file are pinned in tests/bad_input/MANIFEST.tsv by `--pin` (which runs
the fph binary given as FPH and records what it says); review the diff before committing.

    python3 scripts/gen-bad-input.py                    # (re)write the files
    FPH=target/debug/fph python3 scripts/gen-bad-input.py --pin   # and pin the headlines
"""
import os, random, shutil, subprocess, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "bad_input")
ROOT = os.path.normpath(ROOT)

SCENARIO = """name: Status of a payment
tags: [status]
vars:
  amount: "150.00"
matrix:
  - { operator: KCELLKZT, phone: "77017777777" }
  - { operator: ACTIVKZT, phone: "77027777777" }
steps:
  - id: init
    call: init
    form:
      pg_order_id: "{{ order_id() }}"
      pg_amount: "{{ amount }}"
      pg_description: "Top-up via {{ operator }}"
    expect:
      pg_status: ok
      pg_payment_id: { matches: '^\\d+$' }
    capture: { payment_id: pg_payment_id }
  - id: status
    call: status
    form: { pg_payment_id: "{{ payment_id }}" }
    poll: { until: { pg_payment_status: success }, attempts: 3, interval: 10ms }
    expect: { pg_status: ok }
"""

def sub(old, new, count=1):
    assert old in SCENARIO, old
    return SCENARIO.replace(old, new, count)

S = []  # (name, bytes)
def s(name, text):
    S.append((name, text.encode() if isinstance(text, str) else text))

# YAML shape and keys
s("unknown_top_key", SCENARIO + "stepz: []\n")
s("unknown_step_key", sub("    call: status\n", "    cal: status\n"))
s("unknown_step_key_typo_expect", sub("    expect: { pg_status: ok }\n", "    exepct: { pg_status: ok }\n"))
s("unknown_poll_key", sub("attempts: 3", "atempts: 3"))
s("unknown_matcher", sub("{ matches: '^\\d+$' }", "{ match: '^\\d+$' }"))
s("name_missing", SCENARIO.replace("name: Status of a payment\n", ""))
s("name_empty", sub("name: Status of a payment", "name: \"  \""))
s("name_is_a_list", sub("name: Status of a payment", "name: [a, b]"))
s("steps_missing", SCENARIO.split("steps:")[0])
s("steps_empty", SCENARIO.split("steps:")[0] + "steps: []\n")
s("steps_is_a_map", SCENARIO.split("steps:")[0] + "steps: { id: a }\n")
s("step_id_missing", sub("  - id: status\n    call: status\n", "  - call: status\n"))
s("step_id_duplicate", sub("  - id: status\n", "  - id: init\n"))
s("call_missing", sub("    call: status\n", ""))
s("call_unknown", sub("call: status", "call: refund"))
s("call_path_relative", sub("call: status", "call: { path: status.php }"))
s("call_is_a_number", sub("call: status", "call: 12"))
s("form_is_a_list", sub('form: { pg_payment_id: "{{ payment_id }}" }', "form: [a]"))
s("form_key_malformed", sub('pg_description: "Top-up via {{ operator }}"', 'pg_receipt_positions[0: x'))
s("form_value_is_a_map", sub('pg_amount: "{{ amount }}"', "pg_amount: { a: 1 }"))
s("format_2", "format: 2\n" + SCENARIO)
s("format_text", "format: one\n" + SCENARIO)
s("tags_not_a_list", sub("tags: [status]", "tags: status: x"))
s("vars_bad_name", sub('  amount: "150.00"', '  2amount: "150.00"'))
s("vars_dunder_name", sub('  amount: "150.00"', '  __x: "150.00"'))
s("vars_builtin_name", sub('  amount: "150.00"', '  order_id: "1"'))
s("vars_templated", sub('  amount: "150.00"', '  amount: "{{ now() }}"'))
s("vars_is_a_list", sub('vars:\n  amount: "150.00"', "vars: [1, 2]"))
# matrix
s("matrix_empty", sub('matrix:\n  - { operator: KCELLKZT, phone: "77017777777" }\n  - { operator: ACTIVKZT, phone: "77027777777" }', "matrix: []"))
s("matrix_row_missing_column", sub('  - { operator: ACTIVKZT, phone: "77027777777" }', '  - { operator: ACTIVKZT }'))
s("matrix_row_typo_column", sub('  - { operator: ACTIVKZT, phone: "77027777777" }', '  - { operater: ACTIVKZT, phone: "77027777777" }'))
s("matrix_rows_identical", sub('  - { operator: ACTIVKZT, phone: "77027777777" }', '  - { operator: KCELLKZT, phone: "77017777777" }'))
s("matrix_rows_share_a_cassette", sub('  - { operator: KCELLKZT, phone: "77017777777" }\n  - { operator: ACTIVKZT, phone: "77027777777" }', '  - { operator: "a b", phone: "1" }\n  - { operator: "a_b", phone: "1" }'))
s("matrix_rows_share_a_cassette_slash_like", sub('  - { operator: KCELLKZT, phone: "77017777777" }\n  - { operator: ACTIVKZT, phone: "77027777777" }', '  - { operator: "a+b", phone: "1" }\n  - { operator: "a%b", phone: "1" }'))
s("matrix_value_with_slash", sub('operator: ACTIVKZT', 'operator: "../../etc"'))
s("matrix_value_with_control", sub('operator: ACTIVKZT', 'operator: "a\\u0007b"'))
s("matrix_row_no_columns", sub('  - { operator: KCELLKZT, phone: "77017777777" }\n  - { operator: ACTIVKZT, phone: "77027777777" }', "  - {}"))
s("matrix_value_templated", sub('operator: ACTIVKZT', 'operator: "{{ uuid() }}"'))
s("matrix_column_bad_name", sub('  - { operator: KCELLKZT, phone: "77017777777" }\n  - { operator: ACTIVKZT, phone: "77027777777" }', '  - { "a-b": x }\n  - { "a-b": y }'))
# matchers and expectations
s("regex_invalid", sub("'^\\d+$'", "'^(\\d+$'"))
s("matcher_two_rules", sub("{ matches: '^\\d+$' }", "{ matches: x, one_of: [a] }"))
s("matcher_empty", sub("{ matches: '^\\d+$' }", "{}"))
s("range_empty", sub("{ matches: '^\\d+$' }", "{ gte: 10, lte: 1 }"))
s("range_not_number", sub("{ matches: '^\\d+$' }", "{ gte: ten }"))
s("one_of_not_list", sub("{ matches: '^\\d+$' }", "{ one_of: ok }"))
s("present_not_bool", sub("{ matches: '^\\d+$' }", "{ present: maybe }"))
s("expect_path_malformed", sub("    expect: { pg_status: ok }\n", "    expect: { \"a//b\": ok }\n"))
s("expect_body_missing_file", sub("    expect: { pg_status: ok }\n", "    expect: { pg_status: ok }\n    expect_body: nothing.xml\n"))
s("expect_body_outside_project", sub("    expect: { pg_status: ok }\n", "    expect: { pg_status: ok }\n    expect_body: /etc/passwd\n"))
s("expect_body_above_project", sub("    expect: { pg_status: ok }\n", "    expect: { pg_status: ok }\n    expect_body: ../../../etc/hosts\n"))
s("expect_body_not_xml", sub("    expect: { pg_status: ok }\n", "    expect: { pg_status: ok }\n    expect_body: not_xml.body\n"))
s("capture_impossible", sub("capture: { payment_id: pg_payment_id }", "capture: { payment_id: pg_paymnt_id }"))
s("capture_bad_variable", sub("capture: { payment_id: pg_payment_id }", "capture: { 1x: pg_payment_id }"))
# polls and durations
s("poll_on_init", sub("    capture: { payment_id: pg_payment_id }\n", "    capture: { payment_id: pg_payment_id }\n    poll: { until: { pg_status: ok } }\n"))
s("poll_zero_attempts", sub("attempts: 3", "attempts: 0"))
s("poll_negative_attempts", sub("attempts: 3", "attempts: -1"))
s("poll_huge_attempts", sub("attempts: 3", "attempts: 99999999999999999999"))
s("poll_bad_interval", sub("interval: 10ms", "interval: soon"))
s("poll_interval_unit", sub("interval: 10ms", "interval: 10 fortnights"))
s("poll_interval_overflow", sub("interval: 10ms", "interval: 99999999999999999999h"))
s("poll_until_empty", sub("until: { pg_payment_status: success }", "until: {}"))
# templates
s("template_unclosed", sub('"{{ amount }}"', '"{{ amount "'))
s("template_undefined", sub('"{{ amount }}"', '"{{ amout }}"'))
s("template_capture_too_early", sub('"{{ order_id() }}"', '"{{ payment_id }}"'))
s("template_unknown_function", sub('"{{ order_id() }}"', '"{{ order_idd() }}"'))
s("template_sms_code_without_phone", sub('"{{ order_id() }}"', '"{{ sms_code() }}"'))
s("template_unknown_filter", sub('"{{ amount }}"', '"{{ amount | shout }}"'))
s("template_block_unclosed", sub('"{{ amount }}"', '"{% if amount %}x"'))
s("template_env_no_name", sub('"{{ amount }}"', '"{{ env() }}"'))
# syntax
s("yaml_unclosed_flow", sub("tags: [status]", "tags: [status"))
s("yaml_unclosed_quote", sub('amount: "150.00"', 'amount: "150.00'))
s("yaml_tab_indent", sub("    call: status\n", "\tcall: status\n"))
s("yaml_bad_indent", sub("    call: status\n", "      call: status\n"))
s("yaml_duplicate_key", sub("    call: status\n", "    call: status\n    call: init\n"))
s("yaml_two_documents", SCENARIO + "---\nname: again\n")
s("yaml_only_comment", "# nothing here\n")
s("yaml_empty", "")
s("yaml_scalar_document", "just a string\n")
s("yaml_list_document", "- a\n- b\n")
s("yaml_alias_bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n" + SCENARIO)
s("yaml_deep_nesting", "name: deep\nsteps: " + "[" * 5000 + "]" * 5000 + "\n")
s("yaml_deep_maps", "name: deep\nsteps: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n")
s("yaml_long_line", sub("name: Status of a payment", "name: " + "x" * 200000 + "\n  bad: indent"))
# bytes
s("utf8_invalid_in_value", sub("Status of a payment", "Status of a pa").encode().replace(b"pa\n", b"pa\xff\xfe\n", 1))
s("utf8_invalid_in_key", SCENARIO.encode().replace(b"    call: status\n", b"    c\xc3all: status\n", 1))
s("utf8_overlong", SCENARIO.encode().replace(b"tags", b"t\xc0\xafgs", 1))
s("utf8_truncated_sequence", SCENARIO.encode() + b"# \xe2\x82")
s("utf8_surrogate", SCENARIO.encode().replace(b"name: Status", b"name: \xed\xa0\x80Status", 1))
s("utf16_le_bom", b"\xff\xfe" + SCENARIO.encode("utf-16-le"))
s("utf16_be_bom", b"\xfe\xff" + SCENARIO.encode("utf-16-be"))
s("utf16_le_no_bom", SCENARIO.encode("utf-16-le"))
s("nul_byte", SCENARIO.encode().replace(b"  - id: status", b"  - id: st\x00atus", 1))
rng = random.Random(7)
for i in range(4):
    s(f"binary_random_{i}", bytes(rng.randrange(256) for _ in range(512)))
s("binary_png_header", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
s("binary_gzip", b"\x1f\x8b\x08\x00" + bytes(range(200)))
s("control_chars", SCENARIO.replace("Status of a payment", "Status \x1b[31mred"))
s("bom_then_garbage", b"\xef\xbb\xbf\xef\xbb\xbf" + b"\xff")

# Callback steps: waits, replies, callbacks to the merchant's handler
CALLBACKS = 'name: Callbacks\nsteps:\n  - id: init\n    call: init\n    form:\n      pg_amount: "150.00"\n      pg_description: x\n      pg_result_url: \'{{ callback_url("result") }}\'\n'
def cb(name, step):
    s(name, CALLBACKS + step)
cb('wait_and_call', '  - id: paid\n    call: status\n    wait: result_callback\n')
cb('wait_unknown', '  - id: paid\n    wait: result_calback\n')
cb('wait_with_form', '  - id: paid\n    wait: result_callback\n    form: { pg_payment_id: "1" }\n')
cb('wait_with_poll', '  - id: paid\n    wait: result_callback\n    poll: { until: { pg_status: ok } }\n')
cb('reply_on_a_call', '  - id: status\n    call: status\n    reply: { pg_status: ok }\n')
cb('reply_status_and_http', '  - id: paid\n    wait: result_callback\n    reply: { pg_status: ok, http_status: 500 }\n')
cb('reply_unknown_status', '  - id: paid\n    wait: result_callback\n    reply: { pg_status: okay }\n')
cb('reply_not_http', '  - id: paid\n    wait: result_callback\n    reply: { http_status: 1000 }\n')
cb('reply_unknown_key', '  - id: paid\n    wait: result_callback\n    reply: { status: ok }\n')
cb('wait_bad_timeout', '  - id: paid\n    wait: result_callback\n    timeout: soon\n')
cb('callback_unknown_kind', '  - id: notify\n    call: { callback: refund, to: "http://127.0.0.1:9/shop/result" }\n')
cb('callback_bad_method', '  - id: notify\n    call: { callback: result, to: "http://127.0.0.1:9/shop/result", method: PUT }\n')
cb('callback_without_to', '  - id: notify\n    call: { callback: result }\n')
cb('callback_with_encoding', '  - id: notify\n    call: { callback: result, to: "http://127.0.0.1:9/shop/result" }\n    encoding: json\n')
cb('wait_undefined_variable', '  - id: paid\n    wait: result_callback\n    reply: { pg_description: "{{ order }}" }\n')

# harness.yaml
CONFIG = """format: 1
default_target: emulator
targets:
  sandbox: { pause: 2s, sms_code: "111111" }
  staging: { url: http://127.0.0.1:8080 }
routes: { resend_code: /mfs/resend_code }
replay_key: fph-replay-key
redact:
  - { field: pg_abonent_phone, placeholder: phone }
  - { value_pattern: '\\b7\\d{10}\\b', placeholder: phone }
cassette_max_age: 90d
cassette_too_old: warn
"""
def csub(old, new):
    assert old in CONFIG, old
    return CONFIG.replace(old, new, 1)
C = []
def c(name, text):
    C.append((name, text.encode() if isinstance(text, str) else text))
c("unknown_key", CONFIG + "targest: {}\n")
c("secret_key_written", CONFIG + "secret_key: s3cr3t\n")
c("merchant_id_written", CONFIG + "merchant_id: \"552170\"\n")
c("format_2", csub("format: 1", "format: 2"))
c("target_url_empty_label", csub("url: http://127.0.0.1:8080", "url: \"https://api..freedompay.kz\""))
c("target_url_ftp", csub("url: http://127.0.0.1:8080", "url: ftp://x"))
c("target_url_not_url", csub("url: http://127.0.0.1:8080", "url: staging"))
c("target_url_bad_punycode", csub("url: http://127.0.0.1:8080", "url: \"https://xn--zz.freedompay.kz\""))
c("target_without_url", csub("staging: { url: http://127.0.0.1:8080 }", "staging: { pause: 1s }"))
c("target_bad_name", csub("staging:", "\"stag ing\":"))
c("emulator_with_url", csub("sandbox: {", "emulator: { url: http://x }\n  sandbox: {"))
c("emulator_with_sms_code", csub("sandbox: {", "emulator: { sms_code: \"1\" }\n  sandbox: {"))
c("pause_bad", csub("pause: 2s", "pause: two"))
c("pause_negative", csub("pause: 2s", "pause: -2s"))
c("unknown_target_key", csub("pause: 2s", "paus: 2s"))
c("default_target_unknown", csub("default_target: emulator", "default_target: nowhere"))
c("route_unknown_call", csub("resend_code: /mfs/resend_code", "refund: /refund"))
c("redact_bad_regex", csub("'\\b7\\d{10}\\b'", "'(7'"))
c("redact_both_rules", csub("{ field: pg_abonent_phone, placeholder: phone }", "{ field: pg_abonent_phone, value_pattern: x, placeholder: phone }"))
c("redact_no_placeholder", csub("{ field: pg_abonent_phone, placeholder: phone }", "{ field: pg_abonent_phone }"))
c("redact_bad_placeholder", csub("{ field: pg_abonent_phone, placeholder: phone }", "{ field: pg_abonent_phone, placeholder: \"a b\" }"))
c("max_age_bad", csub("cassette_max_age: 90d", "cassette_max_age: forever"))
c("too_old_bad", csub("cassette_too_old: warn", "cassette_too_old: explode"))
c("replay_key_empty", csub("replay_key: fph-replay-key", "replay_key: \"\""))
c("drift_ignore_not_list", CONFIG + "drift_ignore: pg_salt\n")
c("yaml_syntax", csub("routes: { resend_code: /mfs/resend_code }", "routes: { resend_code: /mfs/resend_code"))
c("yaml_duplicate_key", CONFIG + "format: 1\n")
c("yaml_tab", csub("  sandbox:", "\tsandbox:"))
c("utf8_invalid", CONFIG.encode().replace(b"fph-replay-key", b"fph-\xffreplay", 1))
c("utf16_le_bom", b"\xff\xfe" + CONFIG.encode("utf-16-le"))
c("utf16_be_bom", b"\xfe\xff" + CONFIG.encode("utf-16-be"))
c("nul_byte", CONFIG.encode().replace(b"cassette_too_old", b"cassette\x00too_old", 1))
c("binary_random", bytes(random.Random(11).randrange(256) for _ in range(300)))
c("list_document", "- format: 1\n")
c("deep_nesting", "format: 1\ntargets: " + "[" * 5000 + "]" * 5000 + "\n")

# emulator configurations
EMU = """version: 1
merchants:
  "552170": fph-emulator-demo-secret
seed: 42
routes:
  resend_code: /mfs/resend_code
approve_delay: 500ms
code_attempts: 3
code_lifetime: 5m
body_limit: 1MiB
error_codes:
  wrong_code: 8020
"""
def esub(old, new):
    assert old in EMU, old
    return EMU.replace(old, new, 1)
E = []
def e(name, text):
    E.append((name, text.encode() if isinstance(text, str) else text))
e("unknown_key", EMU + "code_atempts: 3\n")
e("version_2", esub("version: 1", "version: 2"))
e("merchants_empty_secret", esub("fph-emulator-demo-secret", "\"\""))
e("merchants_not_map", esub('merchants:\n  "552170": fph-emulator-demo-secret', "merchants: [1]"))
e("seed_text", esub("seed: 42", "seed: lots"))
e("seed_negative", esub("seed: 42", "seed: -1"))
e("route_unknown", esub("resend_code: /mfs/resend_code", "refund: /r"))
e("route_admin_prefix", esub("resend_code: /mfs/resend_code", "resend_code: /_emulator/x"))
e("duration_bad", esub("approve_delay: 500ms", "approve_delay: later"))
e("duration_overflow", esub("approve_delay: 500ms", "approve_delay: 99999999999999999999h"))
e("attempts_text", esub("code_attempts: 3", "code_attempts: three"))
e("body_limit_bad", esub("body_limit: 1MiB", "body_limit: 1 lorry"))
e("error_code_unknown_name", esub("wrong_code: 8020", "wrong_cod: 8020"))
e("error_code_text", esub("wrong_code: 8020", "wrong_code: abc"))
e("bind_bad", "bind: here\n" + EMU)
e("answer_changes_bad_call", EMU + "answer_changes:\n  - { call: refund, status: { ok: fine } }\n")
e("route_same_path", esub("resend_code: /mfs/resend_code", "resend_code: /mfs/pay"))
e("code_attempts_zero", esub("code_attempts: 3", "code_attempts: 0"))
e("yaml_syntax", esub("seed: 42", "seed: [42"))
e("utf8_invalid", EMU.encode().replace(b"demo", b"d\xffmo", 1))
e("utf16_le_bom", b"\xff\xfe" + EMU.encode("utf-16-le"))
e("nul_byte", EMU.encode().replace(b"seed", b"se\x00ed", 1))
e("binary_random", bytes(random.Random(13).randrange(256) for _ in range(300)))
e("deep_nesting", "routes: " + "[" * 5000 + "]" * 5000 + "\n")

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

def cassettes():
    """Cassettes: mutations of one recorded by fph itself (needs FPH), so that the digest
    matches and each file fails for the one reason it was made for."""
    base_dir = os.path.join(ROOT, "cassettes")
    with open(os.path.join(base_dir, "recorded", "default.yaml"), "rb") as f:
        base = f.read().decode()
    out = []
    def k(name, text):
        out.append((name, text.encode() if isinstance(text, str) else text))
    def ksub(old, new):
        assert old in base, old
        return base.replace(old, new, 1)
    import re
    recorded_at = re.search(r'recorded_at: "?([^"\n]+)"?', base).group(0)
    k("recorded_at_garbage", base.replace(recorded_at, "recorded_at: garbage", 1))
    k("recorded_at_future", base.replace(recorded_at, 'recorded_at: "2999-01-01T00:00:00Z"', 1))
    k("recorded_at_feb_30", base.replace(recorded_at, 'recorded_at: "2026-02-30T10:00:00Z"', 1))
    k("recorded_at_huge_year", base.replace(recorded_at, 'recorded_at: "99999999999999999-01-01T00:00:00Z"', 1))
    k("recorded_at_no_zone", base.replace(recorded_at, 'recorded_at: "2026-11-23T10:00:00"', 1))
    k("recorded_at_number", base.replace(recorded_at, "recorded_at: 1700000000", 1))
    k("format_2", ksub("format: 1", "format: 2"))
    k("format_missing", base.replace("format: 1\n", "", 1))
    k("unknown_key", ksub("format: 1", "format: 1\nextra: 1"))
    k("unknown_interaction_key", ksub("  attempt: 1", "  attempt: 1\n  retry: 2"))
    k("attempt_text", ksub("  attempt: 1", "  attempt: first"))
    k("status_text", ksub("status: 200", "status: OK"))
    k("interactions_map", base.split("interactions:")[0] + "interactions: { a: 1 }\n")
    k("truncated_half", base[: len(base) // 2])
    k("truncated_in_body", base[: base.index("<pg_status>") + 5])
    k("body_not_xml", re.sub(r"(body: [|][-+]?\n)(\s+)<\?xml[^\n]*\n", r"\1\2this is not xml\n", base, count=1))
    k("body_unclosed", ksub("</response>", "</respons>"))
    k("duplicate_field", ksub("      pg_merchant_id:", "      pg_salt: x\n      pg_salt: y\n      pg_merchant_id:"))
    k("yaml_tab", ksub("\n  attempt: 1", "\n\tattempt: 1"))
    k("utf8_invalid", base.encode().replace(b"scenario:", b"scen\xffario:", 1))
    k("utf16_le_bom", b"\xff\xfe" + base.encode("utf-16-le"))
    k("nul_byte", base.encode().replace(b"target:", b"tar\x00get:", 1))
    k("binary_random", bytes(random.Random(17).randrange(256) for _ in range(400)))
    k("empty", "")
    k("not_a_cassette", "name: a scenario, not a cassette\n")
    return out

def main():
    pin = "--pin" in sys.argv
    for sub_dir in ["scenarios", "configs", "emulator"]:
        shutil.rmtree(os.path.join(ROOT, sub_dir), ignore_errors=True)
    for name, data in S:
        write(os.path.join(ROOT, "scenarios", name + ".yaml"), data)
    write(os.path.join(ROOT, "scenarios", "not_xml.body"), b"<response><pg_status>ok</pg_status>")
    for link, target in [("dangling_symlink.yaml", "missing.yaml"), ("symlink_loop.yaml", "symlink_loop.yaml")]:
        os.symlink(target, os.path.join(ROOT, "scenarios", link))
    for name, data in C:
        write(os.path.join(ROOT, "configs", name, "harness.yaml"), data)
    for name, data in E:
        write(os.path.join(ROOT, "emulator", name + ".yaml"), data)
    fph = os.environ.get("FPH")
    casette_dir = os.path.join(ROOT, "cassettes")
    if fph and not os.path.exists(os.path.join(casette_dir, "recorded", "default.yaml")):
        subprocess.run([fph, "run", "--mode", "record", "--recordings", os.path.join(casette_dir, "rec"),
                        os.path.join(casette_dir, "recorded.yaml")], check=True, cwd=ROOT)
        os.makedirs(os.path.join(casette_dir, "recorded"), exist_ok=True)
        shutil.move(os.path.join(casette_dir, "rec", "recorded", "default.yaml"),
                    os.path.join(casette_dir, "recorded", "default.yaml"))
        shutil.rmtree(os.path.join(casette_dir, "rec"))
    if os.path.exists(os.path.join(casette_dir, "recorded", "default.yaml")):
        for name, data in cassettes():
            write(os.path.join(casette_dir, "broken", name, "recorded", "default.yaml"), data)
    if pin:
        pin_manifest(fph)

def entries():
    out = []
    for name in sorted(os.listdir(os.path.join(ROOT, "scenarios"))):
        if name.endswith(".yaml"):
            out.append(("scenario", "scenarios/" + name))
    for name in sorted(os.listdir(os.path.join(ROOT, "configs"))):
        out.append(("config", "configs/" + name))
    for name in sorted(os.listdir(os.path.join(ROOT, "emulator"))):
        out.append(("emulator", "emulator/" + name))
    broken = os.path.join(ROOT, "cassettes", "broken")
    if os.path.isdir(broken):
        for name in sorted(os.listdir(broken)):
            out.append(("cassette", "cassettes/broken/" + name))
    return out

def pin_manifest(fph):
    rows = []
    for kind, path in entries():
        if kind in ("scenario", "config"):
            args = [fph, "--color", "never", "lint", path]
        elif kind == "emulator":
            args = [fph, "emulator", "--port", "0", "--config", path]
        else:
            args = [fph, "--color", "never", "run", "cassettes/recorded.yaml", "--recordings", path]
        try:
            done = subprocess.run(args, cwd=ROOT, capture_output=True, timeout=10, env={**os.environ, "NO_COLOR": "1"})
            code, err = done.returncode, done.stderr.decode("utf-8", "replace") + done.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            code, err = -1, "TIMEOUT"
        lines = [l.strip() for l in err.splitlines()]
        # miette's title line (`× file:line:col: title`), else the one-line `error: …`.
        headline = next((l.lstrip("×").strip() for l in lines if l.startswith("×")), None) \
            or next((l for l in lines if l.startswith("error:") and "problem" not in l), None) \
            or next((l for l in lines if "failed to read cassette" in l or ": the recorded answer" in l), "")
        import re
        place = "line" if re.search(re.escape(path) + r"[^\s:]*:\d+:\d+", err) else "file"
        rows.append(f"{kind}\t{path}\t{code}\t{place}\t{headline}")
    with open(os.path.join(ROOT, "MANIFEST.tsv"), "w") as f:
        f.write("# kind\tpath (below tests/bad_input)\texit code\tplace (line: stderr names file:line:column; file: the file only)\tdiagnostic headline (stderr contains it)\n")
        f.write("\n".join(rows) + "\n")

main()
