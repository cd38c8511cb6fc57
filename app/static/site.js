/* On every page: a table too wide for the screen scrolls inside its .table-wrap; that box then takes the keyboard
   focus (tabindex=0) and is named after its table, so it can be scrolled without a mouse (WCAG 2.1.1; axe
   scrollable-region-focusable). A box that does not scroll stays out of the tab order. No inline code: CSP 'self'. */
(function () {
  "use strict";

  function label(wrap) {
    var table = wrap.querySelector("table");
    var caption = table && table.querySelector("caption");
    if (caption) { return caption.textContent.trim(); }
    var node = wrap.previousElementSibling;
    while (node && !/^H[1-6]$/.test(node.tagName)) { node = node.previousElementSibling; }
    return node ? node.textContent.trim() : document.title;
  }

  function mark() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) { wrap.setAttribute("aria-label", label(wrap)); }
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
      }
    }
  }

  var pending = null;
  mark();
  window.addEventListener("resize", function () {
    if (pending !== null) { window.clearTimeout(pending); }
    pending = window.setTimeout(mark, 150);
  });
})();

/* The header's account menu (<details>, base.html) opens and closes without script; Escape closes it and gives the
   focus back to its toggle, and a click or focus elsewhere closes it (WCAG 2.1: no keyboard trap, 1.4.13). */
(function () {
  "use strict";

  var menus = document.querySelectorAll("details.menu");
  function closeAll(except) {
    for (var i = 0; i < menus.length; i++) {
      if (menus[i] !== except) { menus[i].open = false; }
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    for (var i = 0; i < menus.length; i++) {
      if (menus[i].open) {
        menus[i].open = false;
        menus[i].querySelector("summary").focus();
      }
    }
  });
  document.addEventListener("click", function (event) {
    var inside = event.target.closest ? event.target.closest("details.menu") : null;
    closeAll(inside);
  });
  document.addEventListener("focusin", function (event) {
    var inside = event.target.closest ? event.target.closest("details.menu") : null;
    closeAll(inside);
  });
})();
