/* Hosted payment page: countdown, status polling and copy buttons.
   Everything it shows is rendered by the server first (the page works without JavaScript); this script only
   switches #pay[data-state] (waiting | paid | expired | canceled | closed), fills texts from data-* attributes (so they
   arrive translated) and talks to GET <status-url> every ~2 s. No inline code: CSP is script-src 'self'. */
(function () {
  "use strict";

  var root = document.getElementById("pay");
  if (!root) { return; }
  var data = root.dataset;

  var statusEl = root.querySelector('[data-testid="payment-status"]');
  var clockEl = root.querySelector('[data-testid="countdown"]');
  var flagEl = root.querySelector('[data-testid="payment-flag"]');
  var liveEl = root.querySelector('[data-testid="copy-live"]');

  var POLL_MS = 2000;
  var POLL_HIDDEN_MS = 10000;      // the tab is in the background: poll gently
  var POLL_AFTER_END_MS = 10000;   // expired/canceled: a late transfer may still be reported for a while
  var WATCH_AFTER_END_MS = 10 * 60 * 1000;
  var MAX_BACKOFF_MS = 30000;

  var expiresAt = parseInt(data.expiresAt, 10) * 1000;
  // Server time minus phone time: a phone clock that is off must not shorten or stretch the countdown.
  var skew = (parseInt(data.serverNow, 10) * 1000 || Date.now()) - Date.now();
  var endedAt = null;
  var failures = 0;
  var pollTimer = null;
  var clockTimer = null;
  var inFlight = false;

  function serverNow() { return Date.now() + skew; }

  function formatVnd(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " \u20ab";
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function label(state) {
    return data["label" + state.charAt(0).toUpperCase() + state.slice(1)] || state;
  }

  function setState(state) {
    if (root.dataset.state === state) { return; }
    root.dataset.state = state;
    statusEl.dataset.state = state;
    statusEl.textContent = label(state);
    if (state !== "waiting") {
      if (endedAt === null) { endedAt = Date.now(); }
      stopClock();
    }
    if (state === "paid") {
      stopPolling();
      var heading = root.querySelector("#paid-title");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: false }); }
    }
  }

  function showFlag(flag, amount, received) {
    root.dataset.flag = flag || "";
    if (flagEl) {
      if (flag === "short" && received < amount) {
        flagEl.textContent = fill(data.templateShort, {
          received: formatVnd(received), amount: formatVnd(amount), remaining: formatVnd(amount - received)
        });
        flagEl.hidden = false;
      } else {
        flagEl.hidden = true;
      }
    }
    var notes = root.querySelectorAll("[data-flag-note]");
    for (var i = 0; i < notes.length; i++) {
      notes[i].hidden = notes[i].getAttribute("data-flag-note") !== flag;
    }
  }

  /* ---- countdown ------------------------------------------------------------------------------------------ */

  function two(n) { return (n < 10 ? "0" : "") + n; }

  // A fee may be paid within days: "2 ngày 23 giờ" (from data-template-days, translated), then "5:03:12", then
  // "04:59" in the last hour, never "4320:00".
  function clockText(left) {
    var days = Math.floor(left / 86400), hours = Math.floor((left % 86400) / 3600);
    if (days > 0 && data.templateDays) { return fill(data.templateDays, { days: days, hours: hours }); }
    var minutes = Math.floor((left % 3600) / 60), seconds = left % 60;
    if (left >= 3600) { return Math.floor(left / 3600) + ":" + two(minutes) + ":" + two(seconds); }
    return two(minutes) + ":" + two(seconds);
  }

  function tick() {
    if (!clockEl) { return; }
    var left = Math.ceil((expiresAt - serverNow()) / 1000);
    if (left <= 0) {
      clockEl.textContent = label("expired");
      clockEl.classList.remove("is-urgent");
      if (root.dataset.state === "waiting") {
        setState("expired");
        poll();  // the server applies expiry on read: confirm at once
      }
      return;
    }
    clockEl.textContent = clockText(left);
    clockEl.classList.toggle("is-urgent", left <= 60);
    clockTimer = window.setTimeout(tick, 1000 - (serverNow() % 1000) + 5);
  }

  function stopClock() {
    if (clockTimer !== null) { window.clearTimeout(clockTimer); clockTimer = null; }
  }

  /* ---- status polling ------------------------------------------------------------------------------------- */

  function stopPolling() {
    if (pollTimer !== null) { window.clearTimeout(pollTimer); pollTimer = null; }
  }

  function schedule(ms) {
    stopPolling();
    if (root.dataset.state === "paid") { return; }
    if (endedAt !== null && Date.now() - endedAt > WATCH_AFTER_END_MS) { return; }
    pollTimer = window.setTimeout(poll, ms);
  }

  function nextDelay() {
    if (failures > 0) { return Math.min(MAX_BACKOFF_MS, POLL_MS * Math.pow(2, failures)); }
    if (document.hidden) { return POLL_HIDDEN_MS; }
    return root.dataset.state === "waiting" ? POLL_MS : POLL_AFTER_END_MS;
  }

  function apply(s) {
    if (typeof s.now === "number") { skew = s.now * 1000 - Date.now(); }
    if (typeof s.expires_at === "number") { expiresAt = s.expires_at * 1000; }
    showFlag(s.flag, s.amount, s.amount_received);
    if (s.status === "succeeded") {
      fillReceipt(s.receipt);
      setState("paid");
    } else if (s.closed) {
      setState("closed");  /* the commune takes no payment (merged or inactive): no QR, never "waiting" */
    } else if (s.status === "canceled") {
      setState(s.cancellation_reason === "abandoned" ? "expired" : "canceled");
    }
  }

  function fillReceipt(receipt) {
    if (!receipt) { return; }
    var fields = root.querySelectorAll("[data-receipt]");
    for (var i = 0; i < fields.length; i++) {
      var value = receipt[fields[i].getAttribute("data-receipt")];
      if (value) { fields[i].textContent = value; }
    }
    var rows = root.querySelectorAll("[data-receipt-row]");
    for (var j = 0; j < rows.length; j++) { rows[j].hidden = !receipt[rows[j].getAttribute("data-receipt-row")]; }
  }

  function poll() {
    if (inFlight || !data.statusUrl || !window.fetch) { return; }
    inFlight = true;
    window.fetch(data.statusUrl, { cache: "no-store", credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (s) { failures = 0; apply(s); })
      .catch(function () { failures += 1; })
      .then(function () { inFlight = false; schedule(nextDelay()); });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && root.dataset.state !== "paid") { poll(); }
  });

  /* ---- copy buttons --------------------------------------------------------------------------------------- */

  function copyWithSelection(text) {
    var buffer = document.createElement("textarea");
    buffer.value = text;
    buffer.setAttribute("readonly", "");
    buffer.className = "copy-buffer";
    document.body.appendChild(buffer);
    buffer.select();
    buffer.setSelectionRange(0, text.length);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(buffer);
    return ok;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        if (!copyWithSelection(text)) { throw new Error("copy failed"); }
      });
    }
    return copyWithSelection(text) ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function selectValue(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !window.getSelection) { return; }
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function announce(text) {
    if (!liveEl) { return; }
    liveEl.textContent = "";
    window.setTimeout(function () { liveEl.textContent = text; }, 50);
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".pay-copy") : null;
    if (!button) { return; }
    copyText(button.getAttribute("data-copy") || "").then(function () {
      button.textContent = data.labelCopied;
      button.classList.add("is-copied");
      announce(data.labelCopied);
      window.clearTimeout(button._copyTimer);
      button._copyTimer = window.setTimeout(function () {
        button.textContent = data.labelCopy;
        button.classList.remove("is-copied");
      }, 2000);
    }, function () {
      selectValue(button);
      announce(data.labelCopyFailed);
    });
  });

  /* ---- start ---------------------------------------------------------------------------------------------- */

  showFlag(data.flag, parseInt(data.amount, 10), parseInt(data.amountReceived, 10));
  if (root.dataset.state === "waiting") {
    tick();
    schedule(POLL_MS);
  } else if (root.dataset.state !== "paid") {
    endedAt = Date.now();
    schedule(POLL_AFTER_END_MS);
  }
}());
