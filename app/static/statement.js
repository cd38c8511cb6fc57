/* Bank-statement import with a progress bar.

   Progressive enhancement of the plain form: with fetch and streams, the form is sent asking for
   application/x-ndjson and the server answers one JSON line per step ({"done", "total"}), then a last line with
   the summary message and the result panel's HTML. Any other answer (a refused file comes back as the HTML page
   with its error) means nothing was imported: the form is then submitted the ordinary way to show that page. */
(function () {
  "use strict";

  var form = document.querySelector('[data-testid="statement-form"]');
  if (!form || !window.fetch || !window.TextDecoder || !window.FormData) { return; }

  var box = form.querySelector('[data-testid="import-progress"]');
  var bar = box.querySelector("progress");
  var text = box.querySelector('[data-testid="import-progress-text"]');
  var button = form.querySelector('[data-testid="statement-submit"]');
  var slot = document.querySelector('[data-testid="import-result-slot"]');
  var updates = 0;
  var ended = false;  // the last line (the result or an error) arrived

  function show(done, total) {
    bar.max = Math.max(total, 1);
    bar.value = Math.min(done, bar.max);
    text.textContent = form.dataset.labelRows.replace("{done}", done).replace("{total}", total);
    updates += 1;
    box.dataset.updates = String(updates);
  }

  function flash(message, level) {
    var old = document.querySelector('[data-testid="import-flash"]');
    if (old) { old.remove(); }
    var p = document.createElement("p");
    p.className = "flash flash-" + level;
    p.setAttribute("role", level === "error" ? "alert" : "status");
    p.dataset.testid = "import-flash";
    p.textContent = message;
    slot.parentNode.insertBefore(p, slot);
  }

  function finish() {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }

  function handle(message) {
    if (typeof message.total === "number") { show(message.done, message.total); }
    if (message.error) { ended = true; flash(message.error, "error"); return; }
    if (typeof message.html === "string") {
      ended = true;
      slot.innerHTML = message.html;  // rendered and escaped by the server's template
      flash(message.message, message.level || "success");
      form.reset();
    }
  }

  async function send() {
    var response = await fetch(form.action || window.location.href, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/x-ndjson" }
    });
    var type = response.headers.get("Content-Type") || "";
    if (!response.ok || type.indexOf("application/x-ndjson") !== 0 || !response.body) {
      return false;  // refused before anything was recorded
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffered = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) { break; }
      buffered += decoder.decode(chunk.value, { stream: true });
      var lines = buffered.split("\n");
      buffered = lines.pop();
      lines.forEach(function (line) { if (line.trim()) { handle(JSON.parse(line)); } });
    }
    if (buffered.trim()) { handle(JSON.parse(buffered)); }
    if (!ended) { throw new Error("the import stream ended early"); }  // shown as "connection lost"
    return true;
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.plain === "1") { return; }  // the fallback: let the browser post the form
    event.preventDefault();
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    box.hidden = false;
    updates = 0;
    ended = false;
    bar.removeAttribute("value");  // indeterminate until the server has counted the rows
    text.textContent = "";
    send().then(function (streamed) {
      finish();
      if (!streamed) {
        form.dataset.plain = "1";
        box.hidden = true;
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    }, function () {
      finish();
      flash(form.dataset.labelFailed, "error");
    });
  });
})();
