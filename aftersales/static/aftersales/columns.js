/* Per-user list columns: drag to reorder (SortableJS), tick to show, freeze the first N while the rest
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

  document.addEventListener("DOMContentLoaded", function () { makeSortable(); freezeColumns(); });
})();
