/* Template status, live: on a "template.status" event from the inbox's stream (live.js
   dispatches "civic:live"), the library's cell of that translation (#tpl-<id>) or the
   detail page's status block (#template-status) is fetched again from the server and
   swapped in by htmx; the change is announced politely. Nothing is built here: the server
   renders every fragment. Without JavaScript the page shows the same after a reload. */
(function () {
  "use strict";

  function announce(text) {
    var region = document.getElementById("template-announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function fetchInto(url, target) {
    return window.fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || !document.querySelector(target) || !window.htmx) return false;
        window.htmx.swap(target, html, { swapStyle: "outerHTML" });
        return true;
      });
  }

  function statusWords(payload) {
    var words = {
      APPROVED: "Approved", PENDING: "Pending review", REJECTED: "Rejected", PAUSED: "Paused",
      DISABLED: "Disabled", DELETED: "Deleted", IN_APPEAL: "In appeal", FLAGGED: "Flagged"
    };
    return words[payload.status] || String(payload.status || "").toLowerCase();
  }

  document.addEventListener("civic:live", function (e) {
    var event = e.detail || {};
    if (event.type !== "template.status") return;
    var id = event.subject && event.subject.template;
    if (!/^\d+$/.test(String(id))) return;
    var payload = event.payload || {};
    var text = "Template " + (payload.name || "") + " (" + (payload.language || "") + "): " + statusWords(payload);
    var cell = document.getElementById("tpl-" + id);
    if (cell) {
      fetchInto(cell.getAttribute("data-template-cell"), "#tpl-" + id).then(function (done) {
        if (done) announce(text);
      });
      return;
    }
    var block = document.querySelector("#template-status[data-template-status]");
    var page = document.querySelector("[data-template-detail]");
    if (block && page && page.getAttribute("data-template-detail") === String(id)) {
      fetchInto(block.getAttribute("data-template-status"), "#template-status").then(function (done) {
        if (done) announce(text);
      });
    }
  });

  // The page missed events (a long disconnection): its state is reloaded as a whole.
  document.addEventListener("civic:live-resync", function () {
    if (document.querySelector("[data-template-library], [data-template-detail]")) window.location.reload();
  });
})();
