// The payer page's one script: names the phone's operator as it is typed.
"use strict";
(function () {
  var phone = document.getElementById("phone");
  var out = document.getElementById("operator");
  if (!phone || !out) return;
  var table = {};
  (phone.getAttribute("data-operators") || "").split(",").forEach(function (pair) {
    var parts = pair.split(":");
    if (parts.length === 2) table[parts[0]] = parts[1];
  });
  function detect() {
    var d = phone.value.replace(/\D/g, "");
    if (d.length === 11 && d[0] === "8") d = "7" + d.slice(1);
    if (d.length === 10) d = "7" + d;
    if (d[0] !== "7" || d.length < 4) { out.textContent = ""; return; }
    var name = table[d.slice(1, 4)];
    out.textContent = name ? "Operator: " + name : "No Kazakh mobile operator has this number";
  }
  phone.addEventListener("input", detect);
  detect();
})();
