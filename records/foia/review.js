// Review page: selecting words of the message text fills the redaction form's start and end
// (code-point offsets, as the server counts them). Without this script the form works as is.
(function () {
  "use strict";
  var text = document.getElementById("foia-text");
  var start = document.getElementById("id_span-start");
  var end = document.getElementById("id_span-end");
  var status = document.getElementById("foia-selection-status");
  if (!text || !start || !end) { return; }

  function codePoints(s) { return Array.from(s).length; }

  function offsetIn(node, offset) {
    // The UTF-16 offset of (node, offset) from the start of the text element.
    var range = document.createRange();
    range.selectNodeContents(text);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function update() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) { return; }
    var range = selection.getRangeAt(0);
    if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) { return; }
    var whole = text.textContent;
    var a = offsetIn(range.startContainer, range.startOffset);
    var b = offsetIn(range.endContainer, range.endOffset);
    if (b <= a) { return; }
    start.value = codePoints(whole.slice(0, a));
    end.value = codePoints(whole.slice(0, b));
    if (status) {
      status.textContent = "Selected characters " + start.value + " to " + end.value +
        ": choose the exemption code and press Redact the selection.";
    }
  }

  document.addEventListener("selectionchange", update);
  text.addEventListener("keyup", update);
})();
