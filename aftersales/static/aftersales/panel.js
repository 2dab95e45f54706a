/* The review page: "Insert" puts a reply template's text into the note being written (one click). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".insert-reply") : null;
    if (!button) { return; }
    var note = document.getElementById("note_text");
    if (!note) { return; }
    var text = button.getAttribute("data-text");
    note.value = note.value ? note.value + " " + text : text;
    note.focus();
  });
})();
