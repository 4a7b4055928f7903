/* Check-in at the door: marks are shown at once, queued in localStorage and
   sent when the network allows. Each mark carries an id made here, so a queue
   sent twice counts once on the server (booking.checkin.record_mark). Without
   JavaScript the forms post normally (one id per rendered form). */
(function () {
  "use strict";
  var KEY = "guichet-pointage-" + location.pathname;
  var list = document.querySelector('[data-checkin="list"]');
  if (!list || !window.fetch || !window.localStorage) return;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function load() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); }

  var LABELS = {
    present: '<span class="state state--present" aria-hidden="true">✓</span> Présent',
    absent: '<span class="state state--absent" aria-hidden="true">✗</span> Absent',
    pending: '<span class="state state--pending" aria-hidden="true">○</span> À pointer'
  };

  function show(row, state, queued) {
    row.setAttribute("data-state", state);
    if (queued) row.setAttribute("data-queued", ""); else row.removeAttribute("data-queued");
    row.querySelector('[data-checkin="state"]').innerHTML = LABELS[state] || LABELS.pending;
    row.querySelectorAll("button[name=attendance]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.value === state ? "true" : "false");
    });
  }

  function counts() {
    var rows = list.querySelectorAll(".checkin-row"), n = { present: 0, absent: 0, pending: 0 };
    rows.forEach(function (r) { n[r.getAttribute("data-state")] = (n[r.getAttribute("data-state")] || 0) + 1; });
    function set(name, v) { var el = document.querySelector('[data-checkin="' + name + '"]'); if (el) el.textContent = v; }
    set("remaining", n.pending); set("present", n.present); set("absent", n.absent);
    var p = document.querySelector('[data-checkin="progress"]');
    if (p) { p.value = rows.length - n.pending; p.textContent = (rows.length - n.pending) + " / " + rows.length; }
  }

  function banner(queue, offline) {
    var el = document.querySelector('[data-checkin="offline"]');
    if (!el) return;
    if (!queue.length) { el.hidden = true; el.textContent = ""; return; }
    el.hidden = false;
    el.textContent = (offline ? "Pas de réseau : " : "Envoi en cours : ") + queue.length +
      (queue.length > 1 ? " pointages en attente d'envoi. Ils partiront seuls dès le retour du réseau."
                        : " pointage en attente d'envoi. Il partira seul dès le retour du réseau.");
  }

  var sending = false;
  function flush() {
    var queue = load();
    banner(queue, !navigator.onLine);
    if (sending || !queue.length) return;
    sending = true;
    var item = queue[0];
    var body = new FormData();
    body.append("attendance", item.attendance);
    body.append("mark_id", item.mark_id);
    body.append("marked_at", item.marked_at);
    body.append("csrfmiddlewaretoken", item.csrf);
    fetch(item.url, { method: "POST", body: body, credentials: "same-origin",
                      headers: { "Accept": "application/json", "X-CSRFToken": item.csrf } })
      .then(function (r) {
        if (r.status >= 500 || r.status === 0) throw new Error("server");
        return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, data: data }; });
      })
      .then(function (res) {
        var q = load().filter(function (x) { return x.mark_id !== item.mark_id; });
        save(q);
        var row = document.getElementById(item.row);
        if (row && !q.some(function (x) { return x.row === item.row; })) {
          if (res.ok && res.data.attendance) show(row, res.data.attendance, false);
          else if (!res.ok) { row.removeAttribute("data-queued"); alert(res.data.detail || "Pointage refusé."); }
          counts();
        }
        sending = false;
        flush();
      })
      .catch(function () { sending = false; banner(load(), true); });
  }

  list.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form.checkin-marks");
    if (!form) return;
    var button = ev.submitter || document.activeElement;
    if (!button || button.name !== "attendance") return;
    ev.preventDefault();
    var row = form.closest(".checkin-row");
    var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
    var queue = load();
    queue.push({ url: form.action, row: row.id, attendance: button.value, mark_id: uuid(),
                 marked_at: new Date().toISOString(), csrf: csrf });
    save(queue);
    show(row, button.value, true);
    counts();
    flush();
  });

  // Marks queued before a reload: show them, then send them.
  load().forEach(function (item) {
    var row = document.getElementById(item.row);
    if (row) show(row, item.attendance, true);
  });
  counts();
  window.addEventListener("online", flush);
  setInterval(flush, 10000);
  flush();
})();
