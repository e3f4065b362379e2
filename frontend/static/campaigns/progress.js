/* A campaign's progress page, live: on the event stream's campaign events (live.js
   dispatches "civic:live" on document) for this campaign, the server-rendered totals are
   fetched again and swapped in by htmx. Nothing is built or evaluated here; without
   JavaScript the page is simply reloaded.

   The page names its campaign and fragment: <div data-campaign-progress="<id>"
   data-fragment-url="<url>"> around #campaign-progress. Refreshes at most once a second
   (the engine's campaign.progress is throttled too); a change during a refresh is not lost. */
(function () {
  "use strict";

  var EVERY_MS = 1000;

  function root() {
    return document.querySelector("[data-campaign-progress]");
  }

  function campaignOf(event) {
    var subject = event.subject || {};
    var payload = event.payload || {};
    return Number(subject.campaign || payload.campaign || payload.campaign_id || 0);
  }

  function statusShown() {
    var progress = document.querySelector("#campaign-progress");
    return progress ? progress.getAttribute("data-status") : null;
  }

  // When the status moves (scheduled → sending → completed…), what the page offers changes
  // too: the set-up link and the recipients list are fetched again from the page itself.
  function refreshAround() {
    ["#campaign-setup", "#campaign-recipients"].forEach(function (part) {
      if (!document.querySelector(part)) return;
      window.htmx.ajax("GET", window.location.href, { target: part, select: part, swap: "outerHTML" });
    });
  }

  function fetchInto(url, target) {
    return window.fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || !document.querySelector(target) || !window.htmx) return;
        var before = statusShown();
        window.htmx.swap(target, html, { swapStyle: "outerHTML" });
        if (before !== statusShown()) refreshAround();
      })
      .catch(function () { /* the next event, or a reload, brings the page up to date */ });
  }

  var timer = null;
  var again = false;

  function refresh() {
    var element = root();
    if (!element) return;
    if (timer) { again = true; return; }
    fetchInto(element.getAttribute("data-fragment-url"), "#campaign-progress");
    timer = window.setTimeout(function () {
      timer = null;
      if (again) { again = false; refresh(); }
    }, EVERY_MS);
  }

  document.addEventListener("civic:live", function (e) {
    var element = root();
    var event = e.detail || {};
    if (!element || typeof event.type !== "string" || event.type.indexOf("campaign.") !== 0) return;
    if (campaignOf(event) !== Number(element.getAttribute("data-campaign-progress"))) return;
    refresh();
  });
  document.addEventListener("civic:live-resync", refresh);
})();
