// Finance's queue: the total of the ticked rows, live, beside the list's total. Amounts are read from each
// row's data-amount (exact decimals) and summed in cents, so nothing is lost to floating point.
(function () {
  "use strict";

  function cents(text) {
    var match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec((text || "").trim());
    if (!match) return 0;
    var value = parseInt(match[2], 10) * 100 + parseInt(((match[3] || "") + "00").slice(0, 2), 10);
    return match[1] ? -value : value;
  }

  function format(total, sign) {
    var negative = total < 0, whole = Math.floor(Math.abs(total) / 100), rest = Math.abs(total) % 100;
    var grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + sign + grouped + "." + (rest < 10 ? "0" : "") + rest;
  }

  function update() {
    var out = document.getElementById("ticked-total");
    if (!out) return;
    var count = 0, total = 0;
    document.querySelectorAll("#result_list input.action-select:checked").forEach(function (box) {
      var amount = box.closest("tr").querySelector(".refund-amount");
      if (!amount) return;
      count += 1;
      total += cents(amount.getAttribute("data-amount"));
    });
    out.textContent = count === 0 ? out.getAttribute("data-none") : out.getAttribute("data-template")
      .replace("%(count)s", String(count)).replace("%(total)s", format(total, out.getAttribute("data-currency")));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("result_list");
    if (!list) return;
    // Django's own actions.js ticks the boxes ("select all") without a change event on each: listen to clicks too.
    list.addEventListener("change", update);
    list.addEventListener("click", function () { window.setTimeout(update, 0); });
    var all = document.getElementById("action-toggle");
    if (all) all.addEventListener("click", function () { window.setTimeout(update, 0); });
    update();
  });
})();
