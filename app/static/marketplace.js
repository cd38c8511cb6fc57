/* Marketplace: the order page follows its sub-orders by itself (polls the status every ~3 s and reloads the page,
   rendered by the server, when one changes); the vendor's CSV import shows its progress. No inline code (CSP). */
(function () {
  "use strict";

  var order = document.getElementById("order");
  if (order && window.fetch) {
    var url = order.getAttribute("data-status-url");
    var failures = 0;
    var shown = {};
    var subs = order.querySelectorAll("[data-testid='sub-order']");
    for (var i = 0; i < subs.length; i++) { shown[subs[i].getAttribute("data-id")] = subs[i].getAttribute("data-status"); }
    var poll = function () {
      window.fetch(url, { cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (s) {
          failures = 0;
          var changed = s.sub_orders.some(function (sub) { return shown[String(sub.id)] !== sub.status; });
          if (changed) { window.location.reload(); return; }
          var active = s.sub_orders.some(function (sub) {
            return ["awaiting_payment", "paid", "confirmed", "shipped"].indexOf(sub.status) >= 0;
          });
          if (active) { window.setTimeout(poll, document.hidden ? 10000 : 3000); }
        })
        .catch(function () { failures += 1; window.setTimeout(poll, Math.min(30000, 3000 * Math.pow(2, failures))); });
    };
    window.setTimeout(poll, 3000);
  }

  var form = document.getElementById("import-form");
  if (form && window.fetch && window.TextDecoder) {
    var bar = document.getElementById("import-bar");
    var text = document.getElementById("import-text");
    var box = document.getElementById("import-progress");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      box.hidden = false;
      bar.value = 0;
      text.textContent = form.getAttribute("data-label-sending");
      window.fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/x-ndjson" } })
        .then(function (response) {
          if (!response.ok || !response.body) { form.submit(); return; }
          var reader = response.body.getReader();
          var decoder = new TextDecoder();
          var buffered = "";
          var report = null;
          var pump = function () {
            return reader.read().then(function (chunk) {
              if (chunk.done) {
                if (report) { show(report); }
                return;
              }
              buffered += decoder.decode(chunk.value, { stream: true });
              var lines = buffered.split("\n");
              buffered = lines.pop();
              lines.forEach(function (line) {
                if (!line) { return; }
                var event = JSON.parse(line);
                if (event.done) { report = event; return; }
                bar.max = event.total; bar.value = event.progress;
                text.textContent = event.progress + " / " + event.total;
              });
              return pump();
            });
          };
          return pump();
        })
        .catch(function () { text.textContent = form.getAttribute("data-label-failed"); });
    });
    var show = function (report) {
      bar.max = report.total; bar.value = report.total;
      text.textContent = report.summary;
      var list = document.getElementById("import-errors");
      list.textContent = "";
      report.errors.forEach(function (err) {
        var li = document.createElement("li");
        li.textContent = form.getAttribute("data-label-line").replace("{line}", err.line) + " " + err.message;
        list.appendChild(li);
      });
    };
  }
}());
