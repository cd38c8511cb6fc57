/* The invitation page: copy the link, or share it with the phone's own share sheet (Zalo, SMS...) where there is
   one. Without JavaScript the link is still there to select, with the SMS and Zalo links and the QR. */
(function () {
  "use strict";
  var root = document.querySelector(".handover");
  if (!root) { return; }
  var status = document.querySelector("[data-copy-status]");
  var copy = root.querySelector("[data-copy-target]");
  var field = document.getElementById(copy.getAttribute("data-copy-target"));
  function say(text) { if (status) { status.textContent = text; } }
  copy.addEventListener("click", function () {
    field.select();
    var done = function () { say(copy.getAttribute("data-copied") || "✓"); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
      });
    } else {
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });
  var share = root.querySelector("[data-share]");
  if (share && navigator.share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      navigator.share({ text: root.getAttribute("data-share-text") }).catch(function () {});
    });
  }
})();
