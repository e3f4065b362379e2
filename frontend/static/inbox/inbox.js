/* The live inbox: reacts to the event stream (live.js dispatches "civic:live" on document
   with each event) by fetching the server-rendered fragment that changed. No HTML is built
   here and nothing is evaluated: htmx swaps in what the server renders. */
(function () {
  "use strict";

  function page() {
    return document.querySelector("[data-inbox-page]");
  }

  function announce(text) {
    var region = document.getElementById("live-announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  // htmx.ajax drops a request for a target that already has one in flight (its default
  // sync), so two messages arriving together would lose one: fetch, then let htmx swap.
  function fetchInto(url, target, swapStyle) {
    return window.fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || !document.querySelector(target)) return;
        window.htmx.swap(target, html, { swapStyle: swapStyle });
      });
  }

  // At most one refresh of a target per interval; a change during a refresh is not lost.
  function throttled(fn, ms) {
    var timer = null, again = false;
    return function () {
      if (timer) { again = true; return; }
      fn();
      timer = window.setTimeout(function () {
        timer = null;
        if (again) { again = false; fn(); }
      }, ms);
    };
  }

  function onListPage(root) {
    var refresh = throttled(function () {
      var list = document.getElementById("conversation-list");
      if (!list || !window.htmx) return;
      // Only the first page is refreshed live; an agent deep in the list keeps their place.
      if (document.getElementById("conversation-rows").querySelectorAll("li").length > 60) return;
      fetchInto(list.getAttribute("data-refresh-url"), "#conversation-list", "outerHTML");
    }, 1000);
    document.addEventListener("civic:live", function (e) {
      var type = e.detail && e.detail.type;
      if (!type) return;
      // What changes the list: a citizen's message, a reply, a conversation's handling.
      // Delivery statuses do not (and a campaign's thousands of them must not make every
      // open inbox re-render its list); nor do a campaign's own queued messages.
      var payload = e.detail.payload || {};
      var listed = type === "message.received" || type.indexOf("conversation.") === 0 ||
        (type === "message.queued" && payload.sender_type !== "campaign");
      if (listed) refresh();
      if (type === "message.received") announce("New message from a citizen.");
    });
  }

  function onConversationPage(root) {
    var conversation = Number(root.getAttribute("data-conversation"));
    var contactName = root.getAttribute("data-contact-name") || "the citizen";
    var messageUrl = root.getAttribute("data-message-url");
    var refreshPanel = throttled(function () {
      if (!window.htmx) return;
      var active = document.activeElement;
      var panel = document.getElementById("side-panel");
      // Never pull the form out from under someone typing in it.
      if (panel && active && panel.contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName)) return;
      fetchInto(root.getAttribute("data-panel-url"), "#side-panel", "outerHTML");
    }, 1000);

    function showMessage(messagePk, isNew) {
      if (!window.htmx || !messagePk) return;
      var url = messageUrl.replace(/\/m\/0\/$/, "/m/" + messagePk + "/");
      var existing = document.getElementById("message-" + messagePk);
      if (existing) {
        fetchInto(url, "#message-" + messagePk, "outerHTML");
      } else if (isNew) {
        var empty = document.querySelector("#thread-messages .thread__empty");
        if (empty) empty.remove();
        fetchInto(url, "#thread-messages", "beforeend").then(function () {
          // The agent's own reply may have been swapped in by the composer meanwhile.
          var copies = document.querySelectorAll("[id='message-" + messagePk + "']");
          for (var i = 1; i < copies.length; i++) copies[i].remove();
        });
      }
    }

    document.addEventListener("civic:live", function (e) {
      var event = e.detail || {};
      var subject = event.subject || {};
      if (Number(subject.conversation) !== conversation) return;
      switch (event.type) {
        case "message.received":
          showMessage(subject.message, true);
          announce("New message from " + contactName + ".");
          break;
        case "message.queued":
          showMessage(subject.message, true);
          break;
        case "message.status":
          showMessage(subject.message, false);
          var status = event.payload && event.payload.status;
          if (status === "failed") announce("A message to " + contactName + " failed.");
          break;
        case "message.edited":
        case "message.revoked":
          showMessage(subject.message, false);
          break;
        default:
          if (event.type && (event.type.indexOf("conversation.") === 0 || event.type === "note.added" || event.type === "consent.changed")) {
            refreshPanel();
          }
      }
    });
  }

  function start() {
    var root = page();
    if (!root) return;
    var kind = root.getAttribute("data-inbox-page");
    if (kind === "list") onListPage(root);
    if (kind === "conversation") onConversationPage(root);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
