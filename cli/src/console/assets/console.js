// hookrelay console: what is marked data-refresh (the events list, an
// event's deliveries) refreshes itself every two seconds from the URL it
// names (the pages work without this; it only saves reloading).
"use strict";
document.querySelectorAll("[data-refresh]").forEach(function (rows) {
  var url = rows.dataset.refresh;
  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== rows.innerHTML) {
          rows.innerHTML = html;
        }
      })
      .catch(function () {
        // The console stopped; the next tick tries again.
      })
      .finally(function () {
        window.setTimeout(refresh, 2000);
      });
  }
  window.setTimeout(refresh, 2000);
});
