// Lists (register, cases, replies, statistics): sort by a column, print, and saved filters.
// The pages work without this file; it only adds what a clerk expects next to a list.
(function () {
  "use strict";

  // Sort a table by the column whose header is clicked (numbers and dates compared as such).
  function cellValue(row, index) {
    const cell = row.cells[index];
    if (!cell) return "";
    return (cell.dataset.sort !== undefined ? cell.dataset.sort : cell.innerText).trim();
  }

  function compare(a, b) {
    const x = parseFloat(a.replace(/^逾期\s*/, "-")), y = parseFloat(b.replace(/^逾期\s*/, "-"));
    if (!isNaN(x) && !isNaN(y) && /^[-逾期\s\d.]/.test(a) && /^[-逾期\s\d.]/.test(b) &&
        !/^\d{4}-\d/.test(a)) return x - y;
    return a.localeCompare(b, "zh-CN");
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    const body = table.tBodies[0];
    if (!body || !table.tHead) return;
    Array.from(table.tHead.rows[0].cells).forEach(function (th, index) {
      if (!th.textContent.trim() || th.classList.contains("nosort")) return;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      button.title = "按此列排序（本页）";
      th.textContent = "";
      th.appendChild(button);
      th.classList.add("sortable");
      button.addEventListener("click", function () {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th[aria-sort]").forEach(function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const rows = Array.from(body.rows);
        rows.sort(function (r1, r2) {
          const order = compare(cellValue(r1, index), cellValue(r2, index));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
