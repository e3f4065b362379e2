/* Live updates: one EventSource on the inbox stream (inbox/live/, README "Live updates").

   Starts when the page names the stream: an element with data-live-stream="<url>" (and
   optionally data-live-after="<sequence the page was rendered at>"), or
   <meta name="live-stream" content="<url>" data-after="...">. For every event it dispatches
     document.dispatchEvent(new CustomEvent("civic:live", {detail: event}))
   where event is the server's JSON ({agency, sequence, type, subject, payload, created_at}).
   Also "civic:live-resync" (the page missed too much: reload its state) and
   "civic:live-closed" (detail.reason: signed_out, forbidden, agency_changed; no reconnect).
   Keeps #live-status, if present, in words: "Live updates on" / "Reconnecting…".
   Reconnects with exponential backoff and resumes after the last event it delivered.
   No inline code, nothing evaluated: runs under script-src 'self'. */
(function () {
  "use strict";

  var MIN_DELAY_MS = 1000;
  var MAX_DELAY_MS = 30000;

  var source = null;
  var last = null; // sequence of the last event delivered
  var attempts = 0;
  var timer = null;
  var stopped = false;
  var types = []; // the event types the server forwards (its "hello" names them)
  var listening = {};

  function config() {
    var element = document.querySelector("[data-live-stream]");
    if (element) {
      return { url: element.getAttribute("data-live-stream"), after: element.getAttribute("data-live-after") };
    }
    var meta = document.querySelector('meta[name="live-stream"]');
    if (meta) return { url: meta.getAttribute("content"), after: meta.getAttribute("data-after") };
    return null;
  }

  function status(text, state) {
    var element = document.getElementById("live-status");
    if (!element) return;
    if (element.textContent !== text) element.textContent = text;
    element.setAttribute("data-live-state", state);
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  function streamUrl(base) {
    var url = new URL(base, window.location.href);
    if (last !== null) url.searchParams.set("after", String(last));
    return url.pathname + url.search;
  }

  function deliver(message) {
    var event = parse(message.data);
    if (!event || typeof event !== "object") return;
    var sequence = Number(message.lastEventId || event.sequence);
    if (sequence > 0) {
      if (last !== null && sequence <= last) return; // already delivered (before a reconnect)
      last = sequence;
      event.sequence = sequence;
    }
    emit("civic:live", event);
  }

  function listen(names) {
    names.forEach(function (name) {
      if (listening[name]) return;
      listening[name] = true;
      source.addEventListener(name, deliver);
    });
  }

  function connect() {
    timer = null;
    var settings = config();
    if (!settings || !settings.url || stopped) return;
    if (last === null && settings.after && /^\d+$/.test(settings.after)) last = Number(settings.after);
    source = new EventSource(streamUrl(settings.url));
    listening = {};
    listen(types);
    source.addEventListener("hello", function (message) {
      var hello = parse(message.data);
      if (hello && Array.isArray(hello.types)) {
        types = hello.types;
        listen(types);
      }
      attempts = 0;
      status("Live updates on", "on");
    });
    source.addEventListener("resync", function (message) {
      var detail = parse(message.data) || {};
      if (typeof detail.sequence === "number") last = detail.sequence;
      emit("civic:live-resync", detail);
    });
    source.addEventListener("close", function (message) {
      stop();
      status("Live updates off: reload the page to resume", "off");
      emit("civic:live-closed", parse(message.data) || {});
    });
    source.onmessage = deliver; // an event without a type, should the server send one
    source.onerror = function () {
      // Our own backoff rather than the browser's fixed retry: close, wait, resume.
      if (source) source.close();
      source = null;
      if (stopped) return;
      status("Reconnecting…", "reconnecting");
      var delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * Math.pow(2, attempts));
      attempts += 1;
      timer = window.setTimeout(connect, delay / 2 + Math.random() * (delay / 2));
    };
  }

  function stop() {
    stopped = true;
    if (timer) window.clearTimeout(timer);
    timer = null;
    if (source) source.close();
    source = null;
  }

  function start() {
    if (source || timer || !config()) return;
    stopped = false;
    connect();
  }

  // A page kept in the back/forward cache must not hold a stream open.
  window.addEventListener("pagehide", function () {
    if (source) source.close();
    source = null;
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !stopped) start();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
