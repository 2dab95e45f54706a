/* The review page: "Insert" puts a reply template's text into the note being written, where the cursor is
   (replacing what is selected there), and leaves the cursor just after it, so the reply can be finished. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".insert-reply") : null;
    if (!button) { return; }
    var note = document.getElementById("note_text");
    if (!note) { return; }
    var text = button.getAttribute("data-text");
    // A field never focused has its cursor at the start; the end is where a reply goes on then.
    var untouched = note.getAttribute("data-touched") !== "yes";
    var start = untouched ? note.value.length : note.selectionStart;
    var end = untouched ? note.value.length : note.selectionEnd;
    note.focus();
    note.setRangeText(text, start, end, "end");
    note.setAttribute("data-touched", "yes");
    note.dispatchEvent(new Event("input", { bubbles: true }));
  });
  // Where the cursor was last put by the user (a click, a key, a selection) is where the next reply goes.
  ["focus", "select", "keyup", "mouseup"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (event.target && event.target.id === "note_text") { event.target.setAttribute("data-touched", "yes"); }
    }, true);
  });
})();
