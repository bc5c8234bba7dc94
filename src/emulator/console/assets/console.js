// fph emulator console. Every value from the emulator is put into the page as text
// (textContent, attribute values), never as markup. Views are chosen by the address's hash;
// the page polls /_emulator/api/version once a second and redraws the view when it moved.
"use strict";
(function () {
  var API = "/_emulator/api/";
  var view = document.getElementById("view");
  var live = document.getElementById("live");
  var version = null;
  var current = null; // { name, refresh }
  var busy = false;

  // --- small DOM helpers -------------------------------------------------------------
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = String(v);
        else if (k.indexOf("on") === 0) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    return node;
  }
  function add(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function badge(text, cls) { return el("span", { class: "badge " + (cls || text), text: text }); }
  function link(href, text) { return el("a", { href: href, text: text }); }
  function paymentLink(id) { return id ? link("#payment/" + id, String(id)) : el("span", { class: "muted", text: "—" }); }
  function or(v, dflt) { return v === null || v === undefined || v === "" ? (dflt === undefined ? "—" : dflt) : v; }

  function table(columns, rows, rowAttrs) {
    var head = el("tr", null, columns.map(function (c) { return el("th", { scope: "col", text: c[0] }); }));
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr", rowAttrs ? rowAttrs(row) : null);
      columns.forEach(function (c) {
        var td = el("td", { "data-label": c[0], class: c[2] || null });
        add(td, c[1](row));
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    return el("div", { class: "table" }, el("table", { class: "rows" }, el("thead", null, head), body));
  }
  function fieldsTable(fields) {
    if (!fields || !fields.length) return el("p", { class: "muted", text: "no fields" });
    return el("table", { class: "fields" }, el("tbody", null, fields.map(function (f) {
      return el("tr", null, el("td", { text: f.name }), el("td", { text: f.value }));
    })));
  }
  // <details> keep their open state across redraws, by key.
  var opened = {};
  function details(key, summary, body) {
    var d = el("details", { "data-key": key, open: !!opened[key] }, el("summary", null, summary), el("div", null, body));
    d.addEventListener("toggle", function () { opened[key] = d.open; });
    return d;
  }

  function api(path, options) {
    return fetch(API + path, options || {}).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.error ? body.error : "HTTP " + r.status);
        return body;
      });
    });
  }
  function post(path, form) {
    var body = form ? new URLSearchParams(form).toString() : "";
    return api(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body });
  }
  function failure(where, error) {
    clear(where);
    where.appendChild(el("p", { class: "error", role: "alert", text: "Failed to load: " + error.message }));
  }

  // --- views ---------------------------------------------------------------------------
  function paymentsView(params) {
    var state = params.get("state") || "", phone = params.get("phone") || "";
    var pages = []; // `before` of each page shown so far
    var before = null;
    var stateSelect = el("select", { name: "state", id: "filter-state" },
      ["", "new", "checking", "awaiting_code", "processing", "success", "failed"].map(function (s) {
        return el("option", { value: s, selected: s === state, text: s || "any" });
      }));
    var phoneInput = el("input", { name: "phone", id: "filter-phone", type: "search", inputmode: "tel", value: phone, placeholder: "digits" });
    var form = el("form", { class: "filters", role: "search", onsubmit: function (e) {
      e.preventDefault();
      state = stateSelect.value; phone = phoneInput.value; pages = []; before = null; refresh();
    } }, el("label", null, "State", stateSelect), el("label", null, "Phone", phoneInput),
      el("button", { type: "submit", text: "Filter" }));
    var list = el("div", { id: "payments" });
    var pager = el("div", { class: "pager" });
    view.appendChild(el("h2", { text: "Payments" }));
    view.appendChild(form);
    view.appendChild(list);
    view.appendChild(pager);
    function refresh() {
      var q = new URLSearchParams({ limit: "25" });
      if (state) q.set("state", state);
      if (phone) q.set("phone", phone);
      if (before) q.set("before", before);
      return api("payments?" + q).then(function (data) {
        clear(list);
        if (!data.payments.length) {
          list.appendChild(el("p", { class: "empty", text: "No payments yet. Init one against this emulator and it appears here." }));
        } else {
          list.appendChild(table([
            ["ID", function (p) { return paymentLink(p.id); }, "num"],
            ["Order", function (p) { return or(p.order_id); }],
            ["Amount", function (p) { return p.amount + " " + p.currency; }, "num"],
            ["Operator", function (p) { return or(p.operator); }],
            ["Phone", function (p) { return or(p.phone); }, "num"],
            ["State", function (p) { return badge(p.state); }, "state"],
            ["Created", function (p) { return p.created; }, "num"],
            ["Last change", function (p) { return p.changed; }, "num"]
          ], data.payments, function (p) { return { "data-payment-id": p.id }; }));
        }
        clear(pager);
        pager.appendChild(el("span", { text: data.total + " held" }));
        if (pages.length) pager.appendChild(el("button", { type: "button", class: "secondary", text: "Newer", onclick: function () {
          before = pages.pop(); refresh();
        } }));
        if (data.next) pager.appendChild(el("button", { type: "button", class: "secondary", text: "Older", onclick: function () {
          pages.push(before); before = data.next; refresh();
        } }));
      }, function (e) { failure(list, e); });
    }
    return refresh;
  }

  function callRow(c) {
    var summary = [
      el("code", { text: c.method + " " + c.path }),
      badge(c.outcome, c.outcome.indexOf("error") === 0 || c.outcome.indexOf("fault") === 0 ? "failed" : "success"),
      el("span", { class: "muted", text: c.at + " · " + c.elapsed_ms.toFixed(1) + " ms · HTTP " + c.http_status }),
      c.payment_id ? el("span", null, "payment ", paymentLink(c.payment_id)) : null,
      c.fault ? badge("fault: " + c.fault, "failed") : null
    ];
    var body = [
      c.hint ? el("p", { class: "hint" }, "Hint: ", c.hint) : null,
      // How the client sent it: a merchant checking their own encoding sees it here.
      c.encoding || c.content_type ? el("p", { class: "muted", text: "Sent as " + or(c.encoding, "unread") +
        (c.content_type ? " (Content-Type: " + c.content_type + ")" : " (no Content-Type)") }) : null,
      el("h3", { text: "Request fields" }), fieldsTable(c.request),
      el("h3", { text: "Answer sent" }), el("pre", { text: c.answer || "(no body)" })
    ];
    return details("call-" + c.seq, summary, body);
  }

  function attemptRow(a) {
    var summary = [
      el("strong", { text: a.kind }),
      el("span", null, "payment ", paymentLink(a.payment_id)),
      el("span", { text: "attempt " + a.attempt + (a.retry ? " (retry)" : "") }),
      badge(a.kept_contract ? "kept the contract" : "broke the contract", a.kept_contract ? "kept" : "broken"),
      el("span", { class: "muted", text: a.sent_at + " · " + a.elapsed_ms + " ms" })
    ];
    var body = [
      el("p", null, el("code", { text: a.method + " " + a.url })),
      a.failure ? el("p", { class: "hint", text: a.failure }) : null,
      el("p", { text: "Merchant answered: HTTP " + or(a.http_status) + ", pg_status " + or(a.reply_status) +
        (a.reply_description ? ", " + a.reply_description : "") }),
      el("h3", { text: "Fields sent" }), fieldsTable(a.fields),
      el("h3", { text: "Merchant's reply" }), el("pre", { text: or(a.reply_body, "(none)") })
    ];
    return details("cb-" + a.payment_id + "-" + a.kind + "-" + a.attempt + "-" + a.sent_at, summary, body);
  }

  function smsCard(m) {
    return el("article", { class: "sms", "data-phone": m.phone, "data-payment-id": m.payment_id },
      el("div", { class: "meta" }, "To ", el("strong", { text: m.phone }), " · ", m.sent),
      el("div", { class: "sms-code", text: m.code }),
      el("div", { class: "meta" }, "Payment ", paymentLink(m.payment_id), " ", badge(m.status)));
  }

  function paymentView(id) {
    var box = el("div");
    view.appendChild(el("p", null, link("#payments", "← Payments")));
    view.appendChild(el("h2", { text: "Payment " + id }));
    view.appendChild(box);
    return function () {
      return api("payments/" + encodeURIComponent(id)).then(function (d) {
        var p = d.payment;
        clear(box);
        var rows = [
          ["State", badge(p.state)], ["pg_payment_status", p.payment_status],
          ["Order", or(p.order_id)], ["Amount", p.amount + " " + p.currency],
          ["Description", or(p.description)], ["Merchant", p.merchant_id],
          ["Operator", or(p.operator)], ["Phone", or(p.phone)],
          ["Created", p.created], ["Last change", p.changed],
          ["Attempts left", or(p.attempts_left)], ["Resends", or(p.resends)],
          ["Payer page", link(p.redirect_url, "open the payer page")],
          ["pg_success_url", or(p.success_url)], ["pg_failure_url", or(p.failure_url)]
        ];
        box.appendChild(el("dl", { class: "summary", id: "payment-summary" }, rows.map(function (r) {
          return [el("dt", { text: r[0] }), el("dd", null, r[1])];
        })));
        box.appendChild(el("h3", { text: "Calls (" + d.calls.length + ")" }));
        box.appendChild(d.calls.length ? el("div", null, d.calls.map(callRow)) : el("p", { class: "empty", text: "No calls recorded." }));
        box.appendChild(el("h3", { text: "SMS (" + d.sms.length + ")" }));
        box.appendChild(d.sms.length ? el("div", { class: "inbox" }, d.sms.map(smsCard)) : el("p", { class: "empty", text: "No SMS sent for this payment." }));
        box.appendChild(el("h3", { text: "Callbacks (" + d.callbacks.length + ")" }));
        box.appendChild(d.callbacks.length ? el("div", null, d.callbacks.map(attemptRow)) : el("p", { class: "empty", text: "No callbacks sent (init gave no pg_check_url / pg_result_url, or the payment is not final yet)." }));
      }, function (e) { failure(box, e); });
    };
  }

  function smsView(params) {
    var phone = params.get("phone") || "";
    var input = el("input", { id: "sms-phone", type: "search", inputmode: "tel", value: phone, placeholder: "digits" });
    var list = el("div", { id: "inbox" });
    view.appendChild(el("h2", { text: "SMS inbox" }));
    view.appendChild(el("form", { class: "filters", role: "search", onsubmit: function (e) {
      e.preventDefault(); phone = input.value; refresh();
    } }, el("label", null, "Phone", input), el("button", { type: "submit", text: "Filter" })));
    view.appendChild(list);
    function refresh() {
      var q = new URLSearchParams({ limit: "100" });
      if (phone) q.set("phone", phone);
      return api("sms?" + q).then(function (d) {
        clear(list);
        list.appendChild(d.messages.length ? el("div", { class: "inbox" }, d.messages.map(smsCard))
          : el("p", { class: "empty", text: "No SMS yet: pay from a phone whose operator asks for a code (e.g. 77017777777) and the code lands here." }));
      }, function (e) { failure(list, e); });
    }
    return refresh;
  }

  function callbacksView() {
    var list = el("div", { id: "callbacks" });
    view.appendChild(el("h2", { text: "Callbacks" }));
    view.appendChild(list);
    return function () {
      return api("callbacks?limit=200").then(function (d) {
        clear(list);
        list.appendChild(d.attempts.length ? el("div", null, d.attempts.map(attemptRow))
          : el("p", { class: "empty", text: "No callbacks yet. Give init a pg_result_url (or pg_check_url) and they appear here." }));
      }, function (e) { failure(list, e); });
    };
  }

  function callsView() {
    var list = el("div", { id: "calls" });
    view.appendChild(el("h2", { text: "Calls" }));
    view.appendChild(list);
    return function () {
      return api("calls?limit=200").then(function (d) {
        clear(list);
        list.appendChild(d.calls.length ? el("div", null, d.calls.map(callRow)) : el("p", { class: "empty", text: "No calls yet." }));
      }, function (e) { failure(list, e); });
    };
  }

  function faultsView() {
    var list = el("div", { id: "faults" });
    var message = el("p", { role: "status", class: "muted" });
    function select(name, options) {
      return el("select", { name: name, id: "fault-" + name }, options.map(function (o) { return el("option", { value: o, text: o }); }));
    }
    var form = el("form", { class: "fault", id: "fault-form", onsubmit: function (e) {
      e.preventDefault();
      var data = new FormData(form);
      if (!data.get("delay_ms")) data.delete("delay_ms");
      post("faults", data).then(function (r) {
        message.className = "muted";
        message.textContent = "Added fault " + r.fault.id + ": " + r.fault.kind + " on " + r.fault.route + ".";
        refresh();
      }, function (err) { message.className = "error"; message.textContent = err.message; });
    } },
      el("label", null, "Route", select("route", ["all", "init", "pay", "approve", "resend_code", "status"])),
      el("label", null, "Kind", select("kind", ["http500", "http502", "http503", "latency", "malformed_xml", "truncated", "drop"])),
      el("label", null, "Delay (ms)", el("input", { name: "delay_ms", id: "fault-delay_ms", type: "number", min: "0", inputmode: "numeric" })),
      el("label", null, "Times", el("input", { name: "times", id: "fault-times", value: "once" })),
      el("label", null, "Phase", select("phase", ["before", "after"])),
      el("button", { type: "submit", text: "Add fault" }));
    view.appendChild(el("h2", { text: "Faults" }));
    view.appendChild(form);
    view.appendChild(message);
    view.appendChild(list);
    function refresh() {
      return api("faults").then(function (d) {
        clear(list);
        if (!d.faults.length) { list.appendChild(el("p", { class: "empty", text: "No fault rules: every call is answered normally." })); return; }
        list.appendChild(table([
          ["ID", function (f) { return f.id; }, "num"], ["Route", function (f) { return f.route; }],
          ["Kind", function (f) { return f.kind; }], ["Delay", function (f) { return f.delay_ms + " ms"; }, "num"],
          ["Phase", function (f) { return f.phase; }], ["Times left", function (f) { return f.times; }]
        ], d.faults));
        list.appendChild(el("p", null, el("button", { type: "button", class: "danger", text: "Clear all faults", onclick: function () {
          api("faults", { method: "DELETE" }).then(refresh, function (err) { message.className = "error"; message.textContent = err.message; });
        } })));
      }, function (e) { failure(list, e); });
    }
    return refresh;
  }

  // --- routing and live updates --------------------------------------------------------
  function route() {
    var hash = location.hash.replace(/^#/, "") || "payments";
    var q = hash.indexOf("?");
    var name = q < 0 ? hash : hash.slice(0, q);
    var params = new URLSearchParams(q < 0 ? "" : hash.slice(q + 1));
    clear(view);
    var parts = name.split("/");
    var refresh;
    if (parts[0] === "payment" && parts[1]) refresh = paymentView(parts[1]);
    else if (parts[0] === "sms") refresh = smsView(params);
    else if (parts[0] === "callbacks") refresh = callbacksView();
    else if (parts[0] === "calls") refresh = callsView();
    else if (parts[0] === "faults") refresh = faultsView();
    else { parts[0] = "payments"; refresh = paymentsView(params); }
    document.querySelectorAll("nav a").forEach(function (a) {
      if (a.getAttribute("data-view") === parts[0] || (parts[0] === "payment" && a.getAttribute("data-view") === "payments")) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    current = { name: name, refresh: refresh };
    refresh();
  }

  function poll() {
    if (busy) return;
    busy = true;
    api("version").then(function (d) {
      live.textContent = "live · " + new Date().toLocaleTimeString();
      var moved = version !== null && d.version !== version;
      version = d.version;
      if (moved && current) return current.refresh();
    }).catch(function () {
      live.textContent = "emulator not reachable";
    }).then(function () { busy = false; });
  }

  document.getElementById("reset").addEventListener("click", function () {
    if (!window.confirm("Forget every payment, SMS code, fault, callback and call?")) return;
    post("reset").then(function () { if (current) current.refresh(); }, function (e) { window.alert(e.message); });
  });

  api("info").then(function (d) {
    var info = document.getElementById("info");
    var merchants = d.merchants.map(function (m) { return m.id + (m.secret ? " (key " + m.secret + ")" : " (key not shown)"); });
    info.textContent = "Gateway at " + d.base_url + " · merchants: " + merchants.join(", ") +
      " · console: " + d.console + " · keeps the last " + d.calls_kept + " calls and " + d.sms_kept + " SMS" +
      " · times are Kazakhstan time (UTC+5), as the gateway writes them";
    version = d.version;
  }, function () {});

  window.addEventListener("hashchange", function () { route(); view.focus(); });
  route();
  setInterval(poll, 1000);
  // Payments expire with time alone: redraw now and then even when nothing else moved.
  setInterval(function () { if (current && !busy) current.refresh(); }, 10000);
})();
