/* The template editor's small helpers; the form works without them (every field shown,
   submit buttons for the rest):
   - shows only the fields of the header format and of each button's kind chosen
     ([data-part] lists the kinds a field belongs to), and the authentication fields for
     authentication templates;
   - puts the focus where the last step left it (data-focus) or on the error summary;
   - Enter in a one-line field does not submit the form (its first button would run).
   The live preview and the sample fields are htmx (hx-post on #template-preview-box). */
(function () {
  "use strict";

  function form() {
    return document.querySelector("[data-template-editor]");
  }

  function showParts(scope, kind) {
    scope.querySelectorAll("[data-part]").forEach(function (element) {
      if (scope !== form() && element.closest("[data-button-row]") !== scope) return;
      if (scope === form() && element.closest("[data-button-row]")) return;
      var kinds = element.getAttribute("data-part").split(" ");
      element.hidden = kinds.indexOf(kind) === -1;
    });
  }

  function refresh() {
    var editor = form();
    if (!editor) return;
    var header = editor.querySelector("[data-header-format]");
    if (header) showParts(editor, header.value);
    editor.querySelectorAll("[data-button-row]").forEach(function (row) {
      var type = row.querySelector("[data-button-type]");
      if (type) showParts(row, type.value);
    });
    var category = editor.querySelector("[data-category]");
    editor.querySelectorAll("[data-part-category]").forEach(function (element) {
      element.hidden = !category || category.value !== element.getAttribute("data-part-category");
    });
  }

  function start() {
    var editor = form();
    if (!editor) return;
    refresh();
    editor.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("[data-header-format], [data-button-type], [data-category]")) refresh();
    });
    editor.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && target.tagName === "INPUT" && target.type !== "submit" && target.type !== "checkbox") {
        event.preventDefault();
      }
    });
    var summary = document.querySelector("[data-error-summary]");
    var focus = editor.getAttribute("data-focus");
    var element = focus ? document.getElementById(focus) : null;
    if (element) element.focus();
    else if (summary) summary.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
