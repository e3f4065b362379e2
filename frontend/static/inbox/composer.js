/* The reply composer's behaviour (frontend/templates/inbox/composer/composer.html).
 *
 * Everything hangs on data- attributes and document-level listeners, so a composer that
 * htmx swaps in works without setting anything up again, and the script may be loaded
 * twice. Without this file the composer still works: saved replies through the select and
 * its Insert button, no character count, no typing indicator.
 *
 * - "/shortcut" in the message box offers the agency's saved replies (GET data-canned-url
 *   ?q=): a listbox in the combobox pattern (arrow keys, Enter or Tab to insert, Escape to
 *   close), the textarea keeping focus and pointing at the active option with
 *   aria-activedescendant.
 * - "Reply" buttons of the thread (button[data-reply-to][data-reply-summary]) fill the
 *   hidden reply_to field.
 * - While the agent types, POST data-typing-url at most once per 20 s.
 * - A character count as WhatsApp counts (an emoji is one character).
 */
(function () {
  "use strict";
  if (window.civicComposer) {
    return;
  }
  window.civicComposer = true;

  var TEXT_MAX = 4096;
  var TYPING_EVERY_MS = 20000;
  var SEARCH_DELAY_MS = 150;
  var lastTyping = {};
  var searchTimer = null;
  var searchSerial = 0;

  function composerOf(element) {
    return element && element.closest ? element.closest("[data-composer]") : null;
  }

  function csrfToken(composer) {
    var input = composer.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function characters(text) {
    return Array.from(text.replace(/\r\n?/g, "\n")).length;
  }

  function updateCount(textarea) {
    var composer = composerOf(textarea);
    var count = composer && composer.querySelector("[data-composer-count]");
    if (!count) {
      return;
    }
    var used = characters(textarea.value);
    count.textContent = used > TEXT_MAX
      ? used.toLocaleString() + " characters: " + (used - TEXT_MAX).toLocaleString() + " too many."
      : used.toLocaleString() + " of " + TEXT_MAX.toLocaleString() + " characters used.";
  }

  // --- typing indicator

  function pingTyping(composer) {
    var url = composer.getAttribute("data-typing-url");
    var now = Date.now();
    if (!url || (lastTyping[url] && now - lastTyping[url] < TYPING_EVERY_MS)) {
      return;
    }
    lastTyping[url] = now;
    fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(composer) },
      credentials: "same-origin"
    }).catch(function () { /* best effort: only the "typing…" hint is lost */ });
  }

  // --- saved replies: the combobox

  function parts(textarea) {
    var composer = composerOf(textarea);
    return {
      composer: composer,
      list: composer.querySelector("[data-canned-list]"),
      status: composer.querySelector("[data-canned-status]")
    };
  }

  // The "/word" just before the caret, at the start or after a space; null if none.
  function shortcutAt(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = /(^|\s)\/([\w-]{0,40})$/.exec(before);
    if (!match || textarea.selectionStart !== textarea.selectionEnd) {
      return null;
    }
    return { query: match[2], start: before.length - match[2].length - 1 };
  }

  function close(textarea) {
    var p = parts(textarea);
    if (!p.list) {
      return;
    }
    p.list.hidden = true;
    p.list.textContent = "";
    textarea.removeAttribute("aria-activedescendant");
  }

  function options(list) {
    return Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
  }

  function activate(textarea, index) {
    var list = parts(textarea).list;
    var all = options(list);
    if (!all.length) {
      return;
    }
    var next = (index + all.length) % all.length;
    all.forEach(function (option, i) {
      var active = i === next;
      option.setAttribute("aria-selected", active ? "true" : "false");
      option.classList.toggle("bg-primary-lighter", active);
      option.classList.toggle("text-bold", active);
    });
    textarea.setAttribute("aria-activedescendant", all[next].id);
    all[next].scrollIntoView({ block: "nearest" });
  }

  function activeIndex(list) {
    return options(list).findIndex(function (option) {
      return option.getAttribute("aria-selected") === "true";
    });
  }

  function insert(textarea, option) {
    var found = shortcutAt(textarea);
    var body = option.getAttribute("data-body") || "";
    var value = textarea.value;
    var start = found ? found.start : textarea.selectionStart;
    var end = textarea.selectionStart;
    textarea.value = value.slice(0, start) + body + value.slice(end);
    var caret = start + body.length;
    textarea.setSelectionRange(caret, caret);
    close(textarea);
    parts(textarea).status.textContent = "Inserted the saved reply /" + option.getAttribute("data-shortcut") + ".";
    textarea.focus();
    updateCount(textarea);
  }

  function show(textarea, results) {
    var p = parts(textarea);
    p.list.textContent = "";
    if (!results.length) {
      close(textarea);
      p.status.textContent = "No saved reply matches.";
      return;
    }
    results.forEach(function (item, i) {
      var option = document.createElement("li");
      option.id = p.list.id + "-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-body", item.body);
      option.setAttribute("data-shortcut", item.shortcut);
      option.className = "padding-1 border-bottom-1px border-base-lighter";
      var name = document.createElement("span");
      name.className = "text-bold";
      name.textContent = "/" + item.shortcut;
      var title = document.createElement("span");
      title.textContent = " " + item.title;
      option.appendChild(name);
      option.appendChild(title);
      p.list.appendChild(option);
    });
    p.list.hidden = false;
    activate(textarea, 0);
    p.status.textContent = results.length + (results.length === 1 ? " saved reply" : " saved replies") +
      " found. Up and down arrows to choose, Enter to insert, Escape to close.";
  }

  function search(textarea) {
    var found = shortcutAt(textarea);
    var composer = composerOf(textarea);
    var url = composer && composer.getAttribute("data-canned-url");
    if (!found || !url) {
      close(textarea);
      return;
    }
    var serial = ++searchSerial;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      fetch(url + "?q=" + encodeURIComponent(found.query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          if (serial === searchSerial && shortcutAt(textarea)) {
            show(textarea, data.results || []);
          }
        })
        .catch(function () { close(textarea); });
    }, SEARCH_DELAY_MS);
  }

  document.addEventListener("input", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches("[data-composer-text]")) {
      return;
    }
    updateCount(textarea);
    search(textarea);
    if (textarea.value.trim()) {
      pingTyping(composerOf(textarea));
    }
  });

  document.addEventListener("keydown", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches("[data-composer-text]")) {
      return;
    }
    var list = parts(textarea).list;
    if (!list || list.hidden) {
      return;
    }
    var index = activeIndex(list);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      activate(textarea, index + (event.key === "ArrowDown" ? 1 : -1));
    } else if ((event.key === "Enter" || event.key === "Tab") && index >= 0) {
      event.preventDefault();
      insert(textarea, options(list)[index]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close(textarea);
      parts(textarea).status.textContent = "Saved replies closed.";
    }
  });

  document.addEventListener("focusout", function (event) {
    var textarea = event.target;
    if (textarea.matches && textarea.matches("[data-composer-text]")) {
      // A click on an option lands after focusout: close a moment later.
      setTimeout(function () {
        if (document.activeElement !== textarea) {
          close(textarea);
        }
      }, 200);
    }
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest("[data-canned-list] [role=option]");
    if (option) {
      event.preventDefault(); // keep the focus in the textarea
      var composer = composerOf(option);
      insert(composer.querySelector("[data-composer-text]"), option);
    }
  });

  // --- reply to a message of the thread

  function composerOnPage() {
    return document.querySelector("[data-composer]");
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) {
      return;
    }
    var replyButton = target.closest("[data-reply-to]");
    var cancel = target.closest("[data-reply-cancel]");
    if (replyButton) {
      var composer = composerOnPage();
      var field = composer && composer.querySelector("input[name=reply_to]");
      if (!field) {
        return;
      }
      event.preventDefault();
      field.value = replyButton.getAttribute("data-reply-to");
      var box = composer.querySelector("[data-reply-box]");
      box.querySelector("[data-reply-summary]").textContent = replyButton.getAttribute("data-reply-summary") || "";
      box.hidden = false;
      composer.querySelector("[data-composer-text]").focus();
    } else if (cancel) {
      var owner = composerOf(cancel);
      event.preventDefault();
      owner.querySelector("input[name=reply_to]").value = "";
      owner.querySelector("[data-reply-box]").hidden = true;
      owner.querySelector("[data-composer-text]").focus();
    }
  });

  // --- after htmx swapped a fresh composer in: keep the agent typing

  function settle(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var composers = scope.matches && scope.matches("[data-composer]")
      ? [scope]
      : Array.prototype.slice.call(scope.querySelectorAll("[data-composer]"));
    composers.forEach(function (composer) {
      var textarea = composer.querySelector("[data-composer-text]");
      if (textarea) {
        updateCount(textarea);
      }
      if (composer.hasAttribute("data-autofocus")) {
        composer.removeAttribute("data-autofocus");
        var focus = textarea || composer.querySelector("input:not([type=hidden]), select, button");
        if (focus) {
          focus.focus();
        }
      }
    });
  }

  // The live stream may have shown the agent's new message before the composer's answer
  // added it to the thread: keep the first copy of each.
  function dedupe() {
    var thread = document.getElementById("thread-messages");
    if (!thread) {
      return;
    }
    var seen = {};
    Array.prototype.slice.call(thread.querySelectorAll("article[id^='message-']")).forEach(function (el) {
      if (seen[el.id]) {
        el.remove();
      } else {
        seen[el.id] = true;
      }
    });
  }

  document.addEventListener("htmx:load", function (event) { settle(event.target); });
  document.addEventListener("htmx:oobAfterSwap", dedupe);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { settle(document); });
  } else {
    settle(document);
  }
})();
