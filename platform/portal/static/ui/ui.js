// Guichet Famille — small enhancements of the design system. Every page works
// without this file: it only shortens what the server already shows.
(function () {
  "use strict";

  // 1. Forms that follow the choice. A block marked
  //    data-show-when="<field name>=<value>[,<value>…]" is shown only while the
  //    form's control <field name> holds one of the values. Without JavaScript
  //    every block is shown and the server keeps only the chosen one's fields.
  function follow(root) {
    root.querySelectorAll("[data-show-when]").forEach(function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var form = block.closest("form");
      if (!form || rule.length !== 2 || block.dataset.uiFollowed) { return; }
      block.dataset.uiFollowed = "1";
      var name = rule[0], values = rule[1].split(",");
      var update = function () {
        var chosen = "";
        form.querySelectorAll("[name='" + name + "']").forEach(function (control) {
          if ((control.type !== "radio" && control.type !== "checkbox") || control.checked) {
            chosen = control.value;
          }
        });
        // Hidden, not disabled: the server reads only the chosen kind's fields.
        block.hidden = values.indexOf(chosen) === -1;
      };
      form.addEventListener("change", function (event) {
        if (event.target && event.target.name === name) { update(); }
      });
      update();
    });
  }

  // 2. Stacked tables: each cell gets its column's name when the template did
  //    not write data-label (under 600 px a row reads "Montant : 12,00 €").
  function label(root) {
    root.querySelectorAll("table.table--stack").forEach(function (table) {
      var heads = Array.prototype.map.call(
        table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (!cell.hasAttribute("data-label") && heads[i]) { cell.setAttribute("data-label", heads[i]); }
        });
      });
    });
  }

  // 3. A scrolling table box can be reached with the keyboard.
  function scrollable(root) {
    root.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("role")) { box.setAttribute("role", "region"); }
        if (!box.hasAttribute("aria-label")) {
          var caption = box.querySelector("caption");
          box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Tableau");
        }
      }
    });
  }

  // 4. "Print" buttons.
  function printing(root) {
    root.querySelectorAll("[data-ui-print]").forEach(function (button) {
      if (button.dataset.uiPrinting) { return; }
      button.dataset.uiPrinting = "1";
      button.addEventListener("click", function () { window.print(); });
    });
  }

  // 5. Choosing a file (ui/file_pick.html): the chosen file's name and size in
  //    French, read out (aria-live), and « Retirer » to take it back.
  function size(bytes) {
    if (bytes < 1024) { return bytes + " octets"; }
    if (bytes < 1024 * 1024) { return Math.round(bytes / 1024) + " Ko"; }
    return (bytes / 1024 / 1024).toFixed(1).replace(".", ",") + " Mo";
  }
  function files(root) {
    root.querySelectorAll("[data-file-pick]").forEach(function (box) {
      var input = box.querySelector("input[type=file]");
      var name = box.querySelector("[data-file-pick-name]");
      if (!input || !name || box.dataset.uiFiles) { return; }
      box.dataset.uiFiles = "1";
      var clear = document.createElement("button");
      clear.type = "button";
      clear.className = "btn btn--secondary btn--small file-pick__clear";
      clear.textContent = "Retirer le fichier";
      box.appendChild(clear);
      var show = function () {
        var chosen = Array.prototype.slice.call(input.files || []);
        box.classList.toggle("file-pick--chosen", chosen.length > 0);
        clear.hidden = chosen.length === 0;
        if (!chosen.length) {
          name.textContent = "Aucun fichier choisi";
        } else if (chosen.length === 1) {
          name.textContent = "Fichier choisi : " + chosen[0].name + " (" + size(chosen[0].size) + ")";
        } else {
          name.textContent = chosen.length + " fichiers choisis : " +
            chosen.map(function (f) { return f.name; }).join(", ");
        }
      };
      input.addEventListener("change", show);
      clear.addEventListener("click", function () { input.value = ""; show(); input.focus(); });
      box.classList.add("file-pick--ready");
      show();
    });
  }

  function enhance(root) { follow(root); label(root); scrollable(root); printing(root); files(root); }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  // Content swapped in by htmx gets the same treatment.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
