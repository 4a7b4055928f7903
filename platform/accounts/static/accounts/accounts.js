// accounts: focus the error summary, show/hide a password, print a letter.
(function () {
  var summary = document.getElementById("erreurs");
  if (summary) { summary.focus(); }
  document.querySelectorAll("[data-toggle-password]").forEach(function (box) {
    var input = document.getElementById(box.getAttribute("data-toggle-password"));
    if (!input) { return; }
    box.addEventListener("change", function () { input.type = box.checked ? "text" : "password"; });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
