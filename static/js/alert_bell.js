// The alert bell (clinicians and admins): polls the monitoring summary and says what changed in
// a polite live region. The bell is an ordinary link to the alert history page (keyboard: Tab,
// Enter), so it works without this script.
(function () {
  "use strict";
  var bell = document.getElementById("alert-bell");
  var status = document.getElementById("alert-bell-status");
  if (!bell || !status) { return; }
  var count = bell.querySelector("[data-count]");
  var last = null;
  var INTERVAL_MS = 30000;

  function describe(s) {
    var parts = [];
    parts.push(s.open === 1 ? "1 open alert" : s.open + " open alerts");
    if (s.escalations_unread) {
      parts.push(s.escalations_unread === 1 ? "1 unread escalation" : s.escalations_unread + " unread escalations");
    }
    return parts.join(", ");
  }

  function render(s) {
    var total = s.open + s.escalations_unread;
    count.textContent = total ? String(total) : "";
    bell.classList.toggle("alert-bell-active", total > 0);
    bell.setAttribute("aria-label", "Alerts: " + describe(s));
    var key = s.open + ":" + s.escalations_unread + ":" + (s.latest[0] ? s.latest[0].id : "");
    if (last !== null && key !== last && total > 0) {
      status.textContent = describe(s) + (s.latest[0] ? ". Newest: " + s.latest[0].title : "");
    }
    last = key;
  }

  function poll() {
    fetch(bell.getAttribute("data-api"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) { render(s); } })
      .catch(function () { /* offline: try again on the next tick */ });
  }

  poll();
  window.setInterval(function () { if (!document.hidden) { poll(); } }, INTERVAL_MS);
}());
