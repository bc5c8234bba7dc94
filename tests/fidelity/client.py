#!/usr/bin/env python3
"""A Freedom Pay client that is not fph's own: Python's standard library only, with its own
pg_sig routine, sending what merchants' real clients send (urlencoded card-page inits without a
payment method, JSON bodies, pg_xml with type="str" attributes and integer salts, the legacy
status route). Run by tests/fidelity.rs against a running `fph emulator`:

    client.py BASE_URL MERCHANT_ID SECRET_KEY

Prints one line per check and exits 1 at the first that fails.
"""

import hashlib
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

BASE, MERCHANT, SECRET = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


def flatten(value):
    """The values of a message in signing order: keys sorted as byte strings (PHP ksort),
    nested groups in place, recursively."""
    if isinstance(value, dict):
        out = []
        for key in sorted(value, key=lambda k: str(k).encode()):
            out.extend(flatten(value[key]))
        return out
    if isinstance(value, list):
        return flatten({str(i): v for i, v in enumerate(value)})
    return [str(value)]


def sign(script, fields):
    message = {k: v for k, v in fields.items() if k != "pg_sig"}
    text = ";".join([script] + flatten(message) + [SECRET])
    return hashlib.md5(text.encode()).hexdigest()


def signed(script, fields):
    fields = dict(fields, pg_merchant_id=MERCHANT)
    fields["pg_sig"] = sign(script, fields)
    return fields


def form_pairs(fields, prefix=""):
    """`a[b][c]=v` pairs for nested values, as PHP's http_build_query writes them."""
    pairs = []
    for key, value in fields.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            pairs.extend(form_pairs(value, name))
        elif isinstance(value, list):
            pairs.extend(form_pairs({str(i): v for i, v in enumerate(value)}, name))
        else:
            pairs.append((name, str(value)))
    return pairs


def post(path, body, content_type):
    request = urllib.request.Request(
        BASE + path, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def urlencoded(path, fields):
    body = urllib.parse.urlencode(form_pairs(fields)).encode()
    return post(path, body, "application/x-www-form-urlencoded")


def as_json(path, fields):
    return post(path, json.dumps(fields).encode(), "application/json")


def pg_xml(path, fields):
    root = ET.Element("request")
    for key, value in fields.items():
        element = ET.SubElement(root, key, {"type": "str"})
        element.text = str(value)
    xml = ET.tostring(root, encoding="unicode")
    body = urllib.parse.urlencode({"pg_xml": xml}).encode()
    return post(path, body, "application/x-www-form-urlencoded")


def answer(raw):
    """The answer's fields, in order (nested groups are not expected here)."""
    status, headers, body = raw
    root = ET.fromstring(body)
    check(root.tag == "response", f"root is <response>, got <{root.tag}>")
    return status, headers, {child.tag: (child.text or "") for child in root}


def check(condition, what):
    if not condition:
        print(f"FAIL {what}")
        sys.exit(1)
    print(f"ok   {what}")


def verified(script, fields):
    return "pg_sig" in fields and sign(script, fields) == fields["pg_sig"]


# 1. A card-page init: urlencoded, no pg_payment_method, an integer salt, fields fph does not
#    know. The payer would choose the method on the page behind pg_redirect_url.
status, _, init = answer(urlencoded("/init_payment.php", signed("init_payment.php", {
    "pg_order_id": "py-1",
    "pg_amount": "150",
    "pg_description": "Заказ 1",
    "pg_salt": 12345,
    "pg_auto_clearing": 1,
    "pg_state_url": "https://merchant.example/state",
    "sdk": "python-stdlib/1.0",
    "pg_testing_mode": 1,
})))
check(status == 200 and init.get("pg_status") == "ok", f"generic init answers ok: {init}")
check(verified("init_payment.php", init), "generic init's answer is signed")
redirect = init.get("pg_redirect_url", "")
check(re.fullmatch(re.escape(BASE) + r"/pay\.html\?customer=[0-9a-f]{32}", redirect) is not None,
      f"pg_redirect_url has the real shape: {redirect}")
check(init.get("pg_redirect_url_type") == "need data", "pg_redirect_url_type is `need data`")
with urllib.request.urlopen(redirect, timeout=10) as page:
    html = page.read().decode()
    check(page.status == 200 and "150" in html and "Заказ 1" in html,
          "the payment page shows the amount and the description")
payment = init["pg_payment_id"]

# 2. The generic payment is paid from a phone: pay urlencoded, approve as JSON (as a C#
#    integration sends it).
_, _, pay = answer(urlencoded("/mfs/pay", signed("pay", {
    "pg_payment_id": payment, "pg_abonent_phone": "77017777777", "pg_salt": "a1",
})))
check(pay.get("pg_status") == "need_approve" and verified("pay", pay), f"pay: {pay}")
_, _, approve = answer(as_json("/mfs/approve", signed("approve", {
    "pg_payment_id": payment, "pg_approval_code": "111111", "pg_salt": "b2",
})))
check(approve.get("pg_status") == "ok" and verified("approve", approve),
      f"approve sent as JSON: {approve}")

# 3. Status on the legacy route, as Platron's SDK calls it: pg_xml with type="str" attributes,
#    signed as get_status.php; the answer is signed with the same name and leaves out the
#    fields that have no value.
_, _, status3 = answer(pg_xml("/get_status.php", signed("get_status.php", {
    "pg_payment_id": payment, "pg_salt": 777,
})))
check(status3.get("pg_status") == "ok" and verified("get_status.php", status3),
      f"legacy status route, pg_xml with attributes: {status3}")
check(status3.get("pg_payment_status") == "success", "the payment succeeded")
check(status3.get("pg_payment_method") == "mobile_commerce", "it became mobile_commerce")
check("pg_failure_code" not in status3 and "pg_failure_description" not in status3,
      "a successful status has no failure fields")

# 4. A Mobile balance init as a JSON body, nested receipt positions included.
_, _, init_json = answer(as_json("/init_payment.php", signed("init_payment.php", {
    "pg_order_id": "py-2",
    "pg_amount": "25",
    "pg_description": "test",
    "pg_payment_method": "mobile_commerce",
    "pg_salt": "molbulak",
    "pg_receipt_positions": [{"count": 1, "name": "product name", "tax_type": 3, "price": 25}],
})))
check(init_json.get("pg_status") == "ok" and verified("init_payment.php", init_json),
      f"JSON init with nested positions: {init_json}")

# 5. A bad signature: 9998, in Russian, unsigned; the hint is only in the header.
fields = signed("init_payment.php", {"pg_amount": "1", "pg_description": "d", "pg_salt": "s"})
fields["pg_sig"] = "0" * 32
status, headers, bad = answer(urlencoded("/init_payment.php", fields))
check(bad.get("pg_error_code") == "9998", f"a bad signature is 9998: {bad}")
check(bad.get("pg_error_description") == "Некорректная подпись запроса", "in the gateway's words")
check("pg_sig" not in bad and "pg_salt" not in bad, "and unsigned")
hint = urllib.parse.unquote({k.lower(): v for k, v in headers.items()}.get("x-emulator-hint", ""))
check("init_payment.php;1;d;" in hint and SECRET not in hint, f"X-Emulator-Hint: {hint}")

# 6. An unknown merchant: 9997, unsigned.
_, _, unknown = answer(urlencoded("/get_status3.php", {
    "pg_merchant_id": "1", "pg_payment_id": payment, "pg_salt": "s", "pg_sig": "0" * 32,
}))
check(unknown.get("pg_error_code") == "9997" and "pg_sig" not in unknown,
      f"an unknown merchant is 9997, unsigned: {unknown}")

# 7. Which operator serves a number (check_mnp), in both spellings.
for phone, operator in [("+77071234567", "Tele2"), ("77001234567", "Altel"), ("77011234567", "Kcell")]:
    _, _, mnp = answer(urlencoded("/mfs/check_mnp", signed("check_mnp", {
        "pg_abonent_phone": phone, "pg_salt": "c3",
    })))
    check(mnp.get("pg_operator_name") == operator and verified("check_mnp", mnp),
          f"check_mnp {phone}: {mnp}")

print("all checks passed")
