/* The reasons list (reasons/admin.py): drag a row by its handle to reorder (SortableJS); the "up" / "down"
   buttons do the same from the keyboard without this script. A drop posts "<reason> before <the row now
   below>" (or "after <the row now above>" at the end) in the list's move form; the server renumbers. */
(function () {
  "use strict";

  function reasonOf(row) {
    var handle = row ? row.querySelector(".reason-drag") : null;
    return handle ? handle.getAttribute("data-reason") : null;
  }

  function makeSortable() {
    var body = document.querySelector("#result_list tbody");
    var form = document.getElementById("reason-move-form");
    if (!body || !form || !window.Sortable || !body.querySelector(".reason-drag")) { return; }
    window.Sortable.create(body, {
      handle: ".reason-drag", animation: 120,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) { return; }
        var row = event.item, moved = reasonOf(row);
        var below = reasonOf(row.nextElementSibling), above = reasonOf(row.previousElementSibling);
        document.getElementById("reason-move").value = below ? moved + " before " + below : moved + " after " + above;
        form.submit();
      }
    });
  }

  // Back from a move by keyboard: the focus returns to the button pressed (#moved-<reason>-up / -down).
  function refocus() {
    var found = /^#moved-(\d+)-(up|down)$/.exec(window.location.hash);
    if (!found) { return; }
    var handle = document.querySelector('.reason-drag[data-reason="' + found[1] + '"]');
    var cell = handle ? handle.parentNode : null;
    var button = cell ? (cell.querySelector(".move-" + found[2]) || cell.querySelector("button")) : null;
    if (button) { button.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () { makeSortable(); refocus(); });
})();
