// The supervisor view's live panels: on the inbox's live events ("civic:live", dispatched
// by live.js) that change queues or agents, each panel reloads itself from its
// data-supervisor-panel URL, at most once every 2 s ("civic:live-resync": at once too).
// The conversation list is left alone while any of its boxes is ticked, so a refresh never
// drops a selection. Delivery statuses (a campaign's thousands) change no panel.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var last = 0;
  var timer = null;

  function refresh() {
    timer = null;
    last = Date.now();
    if (!window.htmx) return;
    document.querySelectorAll("[data-supervisor-panel]").forEach(function (panel) {
      if (panel.querySelector("input[type=checkbox]:checked")) return;
      window.htmx.ajax("GET", panel.getAttribute("data-supervisor-panel"), {
        target: "#" + panel.id,
        swap: "outerHTML",
      });
    });
  }

  function matters(event) {
    var type = (event && event.type) || "";
    return (
      type.indexOf("conversation.") === 0 ||
      type === "message.received" ||
      type === "message.queued" ||
      type === "agent.availability"
    );
  }

  function soon() {
    if (timer !== null) return;
    var wait = Math.max(0, last + EVERY_MS - Date.now());
    timer = window.setTimeout(refresh, wait);
  }

  document.addEventListener("civic:live", function (e) {
    if (matters(e.detail)) soon();
  });
  document.addEventListener("civic:live-resync", soon);
})();
