// The citizen's dossier page (tenants/onestop/templates/onestop/public_dossier.html): copy buttons for the payment
// details, and the dossier followed live (the public JSON API, every few seconds): when its status changes (the
// bank's notification paid the fee), the fee QR goes away at once, so that nobody pays twice.
(function () {
  var live = document.querySelector("[data-copied]");
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (navigator.clipboard) {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
          if (live) { live.textContent = live.getAttribute("data-copied"); }
        });
      }
    });
  });
  var page = document.querySelector("[data-follow]");
  if (!page) { return; }
  var status = page.getAttribute("data-status");
  var timer = setInterval(function () {
    fetch(page.getAttribute("data-follow"), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (view) {
        if (!view || view.status === status) { return; }
        clearInterval(timer);
        var qr = document.querySelector("[data-testid=fee-qr]");
        if (qr) { qr.remove(); }
        var badge = document.querySelector("[data-testid=public-status]");
        if (badge) { badge.textContent = view.status_number + ". " + view.status_label; }
        var note = document.querySelector("[data-testid=status-changed]");
        if (note) { note.hidden = false; }
      })
      .catch(function () {});
  }, 5000);
})();
