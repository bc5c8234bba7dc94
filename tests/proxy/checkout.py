#!/usr/bin/env python3
"""A merchant backend's checkout that is not fph's own: Python's standard library only, with
its own pg_sig routine, driving one Mobile balance payment the way a PHP or Node backend would
— init as an urlencoded form, pay as multipart, approve as JSON, status polled with GET until
the payment is final. Run by tests/cli/proxy.rs, through `fph proxy` and against
`fph emulator --replay`:

    checkout.py BASE_URL MERCHANT_ID SECRET_KEY SALT ORDER_ID PHONE

Prints one JSON line per call ({"call", "status", "content_type", "body"}) and exits 0 when the
payment succeeded, 3 when an answer was an error (the line is printed first), 1 when an
answer's pg_sig does not verify with SECRET_KEY.
"""

import hashlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

BASE, MERCHANT, SECRET, SALT, ORDER, PHONE = sys.argv[1:7]
BASE = BASE.rstrip("/")
calls = 0


def sign(script, fields):
    values = [str(fields[k]) for k in sorted(fields, key=lambda k: k.encode()) if k != "pg_sig"]
    return hashlib.md5(";".join([script] + values + [SECRET]).encode()).hexdigest()


def signed(script, fields):
    global calls
    calls += 1
    fields = dict(fields, pg_merchant_id=MERCHANT, pg_salt=f"{SALT}{calls}")
    fields["pg_sig"] = sign(script, fields)
    return fields


def multipart(fields):
    boundary = "----checkout" + hashlib.md5(SALT.encode()).hexdigest()[:16]
    parts = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n')
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


def send(call, path, fields, how):
    script = path.rsplit("/", 1)[-1]
    fields = signed(script, fields)
    url, data, headers = BASE + path, None, {}
    if how == "urlencoded":
        data = urllib.parse.urlencode(fields).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif how == "multipart":
        data, headers["Content-Type"] = multipart(fields)
    elif how == "json":
        data = json.dumps(fields).encode()
        headers["Content-Type"] = "application/json"
    else:
        url += "?" + urllib.parse.urlencode(fields)
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, content_type, body = answer.status, answer.headers.get("Content-Type"), answer.read()
    except urllib.error.HTTPError as error:
        status, content_type, body = error.code, error.headers.get("Content-Type"), error.read()
    text = body.decode("utf-8")
    print(json.dumps({"call": call, "status": status, "content_type": content_type, "body": text}), flush=True)
    root = ET.fromstring(body)
    answer = {child.tag: (child.text or "") for child in root}
    if "pg_sig" in answer and sign(script, answer) != answer["pg_sig"]:
        print(f"{call}: the answer's pg_sig does not verify with this merchant's key", file=sys.stderr)
        sys.exit(1)
    if answer.get("pg_status") == "error":
        sys.exit(3)
    return answer


init = send("init", "/init_payment.php", {
    "pg_order_id": ORDER,
    "pg_amount": "250.00",
    "pg_currency": "KZT",
    "pg_description": "Order " + ORDER + " & co",
    "pg_payment_method": "mobile_commerce",
    "pg_testing_mode": "1",
    "pg_user_ip": "10.0.0.7",
}, "urlencoded")
payment = init["pg_payment_id"]
pay = send("pay", "/mfs/pay", {"pg_payment_id": payment, "pg_abonent_phone": PHONE}, "multipart")
if pay.get("pg_status") == "need_approve":
    send("approve", "/mfs/approve", {"pg_payment_id": payment, "pg_approval_code": "111111"}, "json")
for _ in range(40):
    status = send("status", "/get_status3.php", {"pg_payment_id": payment}, "get")
    if status.get("pg_payment_status") in ("success", "error"):
        break
    time.sleep(0.2)
sys.exit(0 if status.get("pg_payment_status") == "success" else 3)
