// Filter the commune list as the user types; accents optional ("bat trang" finds "Bát Tràng").
(function () {
  var input = document.getElementById("commune-filter");
  if (!input) return;
  function fold(s) {
    return s.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase().replace(/\s+/g, " ").trim();
  }
  input.addEventListener("input", function () {
    var q = fold(input.value);
    document.querySelectorAll("[data-folded]").forEach(function (li) {
      li.hidden = q && li.getAttribute("data-folded").indexOf(q) === -1;
    });
  });
})();
