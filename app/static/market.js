/* The market sale page: polls the sale's status every ~2 s while it waits for the bank transfer, and turns the
   page to "paid" (or "canceled") by itself. The page is complete without JavaScript (reload to see the status).
   No inline code: CSP is script-src 'self'. */
(function () {
  "use strict";

  var root = document.getElementById("market-sale");
  if (!root || root.dataset.state !== "pending") { return; }
  var statusEl = root.querySelector('[data-testid="sale-status"]');
  var url = root.dataset.statusUrl;
  var POLL_MS = 2000;
  var failures = 0;

  function show(data) {
    root.dataset.state = data.status;
    statusEl.dataset.state = data.status;
    statusEl.textContent = data.label;
    var receipt = root.querySelector('[data-testid="sale-receipt"]');
    if (receipt && data.receipt) { receipt.textContent = data.receipt; receipt.hidden = false; }
    if (data.status !== "pending") {
      var waiting = root.querySelectorAll("[data-while-pending]");  // the QR and the hand confirmation
      for (var i = 0; i < waiting.length; i++) { waiting[i].hidden = true; }
      statusEl.setAttribute("tabindex", "-1");
      statusEl.focus();
    }
  }

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status === 200) {
        failures = 0;
        var data = JSON.parse(request.responseText);
        if (data.status !== root.dataset.state) { show(data); }
        if (data.status === "pending") { schedule(); }
      } else {
        failures += 1;
        schedule();
      }
    };
    request.onerror = function () { failures += 1; schedule(); };
    request.send();
  }

  function schedule() {
    var wait = document.hidden ? 10000 : POLL_MS * Math.min(Math.pow(2, failures), 15);
    window.setTimeout(poll, wait);
  }

  schedule();
}());
