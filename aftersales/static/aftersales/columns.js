/* Per-user list columns: drag to reorder (SortableJS) or move with the arrow buttons, tick to show, freeze the first N while the rest
   scroll. The form works without this script (tick boxes and "Save"); the script adds dragging and keeps
   the frozen columns in place as the table scrolls sideways. */
(function () {
  "use strict";

  function makeSortable() {
    var list = document.getElementById("column-choices");
    if (list && window.Sortable) {
      window.Sortable.create(list, { handle: ".drag-handle", animation: 120, draggable: "li.movable" });
    }
  }

  // The keyboard's way to reorder (issue #21): each movable item's "earlier" / "later" buttons swap it with its
  // movable neighbour; focus stays on the button pressed, so pressing again moves it on.
  function moveByButtons() {
    var list = document.getElementById("column-choices");
    if (!list) { return; }
    list.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".move-earlier, .move-later") : null;
      if (!button) { return; }
      var item = button.closest("li");
      var earlier = button.classList.contains("move-earlier");
      var other = earlier ? item.previousElementSibling : item.nextElementSibling;
      if (!other || !other.classList.contains("movable")) { return; }
      list.insertBefore(item, earlier ? other : other.nextElementSibling);
      button.focus();
    });
  }

  function freezeColumns() {
    var table = document.getElementById("result_list");
    var panel = document.getElementById("columns-panel");
    if (!table || !panel) { return; }
    var frozen = parseInt(panel.getAttribute("data-frozen") || "0", 10);
    if (!frozen) { return; }
    var rows = table.querySelectorAll("tr");
    var header = rows.length ? rows[0].children : [];
    var count = Math.min(frozen + 1, header.length); // + the selection checkbox
    var offsets = [], left = 0;
    for (var i = 0; i < count; i++) { offsets.push(left); left += header[i].getBoundingClientRect().width; }
    rows.forEach(function (row) {
      for (var i = 0; i < count && i < row.children.length; i++) {
        var cell = row.children[i];
        cell.classList.add("frozen");
        cell.style.left = offsets[i] + "px";
        if (i === count - 1) { cell.classList.add("frozen-last"); }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { makeSortable(); moveByButtons(); freezeColumns(); });
})();
