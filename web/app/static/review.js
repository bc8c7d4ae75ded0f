// 校对: keyboard and fetch on top of plain forms (the page works without this file).
// Keys (also listed on the page): j/↓ k/↑ next/previous line, n / Shift+N next/previous
// low-confidence line, Enter or e edit, Enter or Ctrl+Enter save the line, Esc cancel,
// Ctrl+S or Ctrl+Enter (not editing) save the details form, m jump to the details form.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  const lines = Array.from(document.querySelectorAll("li.line"));
  const meta = document.getElementById("meta");
  const notice = document.getElementById("notice");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let current = -1;

  function boxOf(li) {
    return document.querySelector('polygon[data-line="' + li.id + '"]');
  }

  // The 已核对 box of the doubtful lines ticks itself once the clerk has looked at each one
  // (selected it by n, arrows or a click; the page's own first selection does not count).
  const lowChecked = document.getElementById("low-lines-checked");
  const seenLow = new Set();
  let started = false;
  function noteSeen(li) {
    if (!started || !lowChecked || !li.classList.contains("low")) return;
    seenLow.add(li.id);
    const doubtful = lines.filter(function (l) {
      return l.classList.contains("low") && !l.classList.contains("edited");
    });
    if (doubtful.every(function (l) { return seenLow.has(l.id); })) lowChecked.checked = true;
  }

  function select(i, scroll) {
    if (i < 0 || i >= lines.length) return;
    if (current >= 0) {
      lines[current].classList.remove("current");
      const old = boxOf(lines[current]);
      if (old) old.classList.remove("current");
    }
    current = i;
    const li = lines[i];
    noteSeen(li);
    li.classList.add("current");
    const box = boxOf(li);
    if (box) box.classList.add("current");
    if (scroll !== false) {
      li.scrollIntoView({ block: "nearest" });
      if (box) reveal(box);
    }
  }

  // Scroll the scan pane (only it, not the page) so the selected box is in view.
  function reveal(box) {
    const pane = box.closest(".scans");
    if (!pane) return;
    const r = box.getBoundingClientRect();
    const p = pane.getBoundingClientRect();
    if (r.top < p.top || r.bottom > p.bottom) pane.scrollTop += r.top - p.top - p.height / 3;
  }

  function editing() {
    return current >= 0 && lines[current].classList.contains("editing") ? lines[current] : null;
  }

  function edit(i) {
    select(i);
    const li = lines[i];
    li.classList.add("editing");
    const input = li.querySelector('input[name="text"]');
    input.dataset.before = input.value;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function stopEditing(li, restore) {
    const input = li.querySelector('input[name="text"]');
    if (restore && input.dataset.before !== undefined) input.value = input.dataset.before;
    li.classList.remove("editing");
    input.blur();
  }

  function say(message, conflict) {
    notice.replaceChildren();
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = message;
    notice.appendChild(p);
    if (conflict) {
      const box = document.createElement("div");
      box.className = "conflict";
      const people = (conflict.petitioners || []).map(function (x) { return x.name; }).join("、");
      const rows = [
        ["修改人", (conflict.changed_by || "—") + "（" + (conflict.changed_at || "") + "，第 " + conflict.version + " 版）"],
        ["信访人", people || "—"], ["事项摘要", conflict.summary || "—"],
        ["案件", conflict.case_no || "—"],
      ];
      if (conflict.where) rows.push(["您未保存的修改", conflict.where + "：" + conflict.yours]);
      const dl = document.createElement("dl");
      rows.forEach(function (row) {
        const dt = document.createElement("dt"); dt.textContent = row[0];
        const dd = document.createElement("dd"); dd.textContent = row[1];
        dl.append(dt, dd);
      });
      const reload = document.createElement("a");
      reload.href = location.pathname + location.hash;
      reload.textContent = "重新载入本页，看对方的修改";
      box.append(dl, reload);
      notice.appendChild(box);
    }
    notice.hidden = false;
    notice.scrollIntoView({ block: "nearest" });
  }

  function setVersion(version) {
    document.querySelectorAll('input[name="version"]').forEach(function (input) {
      input.value = version;
    });
  }

  async function save(li) {
    const form = li.querySelector("form");
    const input = form.querySelector('input[name="text"]');
    if (input.value === input.dataset.before) { stopEditing(li, false); return; }
    li.classList.add("saving");
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      });
      const data = await response.json().catch(function () { return {}; });
      if (!response.ok) {
        say(data.error || ("保存失败（" + response.status + "）"), data.conflict);
        return;
      }
      notice.hidden = true;
      li.querySelector(".text").textContent = data.text;
      input.value = data.text;
      input.dataset.before = data.text;
      const edited = data.ocr_text !== null && data.ocr_text !== undefined && data.ocr_text !== data.text;
      li.classList.toggle("edited", edited);
      const ocr = li.querySelector(".ocr");
      ocr.querySelector("del").textContent = data.ocr_text || "";
      ocr.hidden = !edited;
      const box = boxOf(li);
      if (box) box.classList.toggle("edited", edited);
      setVersion(data.version);
      fillFound(data.found || {});
      followName(data.before || "", data.text, (data.found || {}).names || []);
      stopEditing(li, false);
    } catch (error) {
      say("网络错误，未保存：" + error.message);
    } finally {
      li.classList.remove("saving");
    }
  }

  // A corrected line may now hold a valid ID or phone number: offer it in an empty field.
  function fillFound(found) {
    if (!meta) return;
    [["id_numbers", "_id_number"], ["phones", "_phone"]].forEach(function (pair) {
      const inputs = Array.from(meta.querySelectorAll('input[name$="' + pair[1] + '"]'));
      const present = inputs.map(function (input) { return input.value.trim().toUpperCase(); });
      (found[pair[0]] || []).forEach(function (value) {
        if (present.indexOf(value.toUpperCase()) >= 0) return;
        const empty = inputs.find(function (input, n) {
          const name = meta.querySelector('input[name="p' + n + '_name"]');
          return !input.value.trim() && (n === 0 || (name && name.value.trim()));
        });
        if (empty) {
          empty.value = value;
          empty.classList.add("filled");
          present.push(value.toUpperCase());
        }
      });
    });
  }

  // A name field holding the old reading of the corrected line takes the line's new reading.
  function followName(before, after, names) {
    if (!meta || !names.length) return;
    meta.querySelectorAll('input[name$="_name"]').forEach(function (input) {
      const value = input.value.trim();
      if (!value || before.indexOf(value) < 0 || after.indexOf(value) >= 0) return;
      input.value = names[0];
      input.classList.add("filled");
    });
  }

  function nextLow(step) {
    for (let i = current + step; i >= 0 && i < lines.length; i += step) {
      if (lines[i].classList.contains("low")) { select(i); return; }
    }
  }

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  lines.forEach(function (li, i) {
    li.querySelector("form").addEventListener("submit", function (event) {
      event.preventDefault();
      save(li);
    });
    li.querySelector(".text").addEventListener("click", function () { edit(i); });
    li.addEventListener("click", function (event) {
      if (!typing(event.target) && !li.classList.contains("editing")) select(i, false);
    });
    const box = boxOf(li);
    if (box) box.addEventListener("click", function () { edit(i); });
  });

  document.addEventListener("keydown", function (event) {
    const ctrl = event.ctrlKey || event.metaKey;
    const li = editing();
    if (li) {
      if (event.key === "Escape") { event.preventDefault(); stopEditing(li, true); }
      else if (event.key === "Enter" || (ctrl && event.key === "s")) { event.preventDefault(); save(li); }
      return;
    }
    if (ctrl && (event.key === "s" || event.key === "Enter")) {
      event.preventDefault();
      if (meta) meta.requestSubmit();
      return;
    }
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      // Enter in a details field moves on to the next field; only Ctrl+S / Ctrl+Enter save.
      if (event.key === "Enter" && meta && meta.contains(event.target) &&
          event.target.tagName === "INPUT" && event.target.type !== "radio") {
        event.preventDefault();
        const fields = Array.from(meta.querySelectorAll("input:not([type=hidden]), select, textarea"));
        const next = fields[fields.indexOf(event.target) + 1];
        if (next) next.focus();
      }
      return;
    }
    if (event.altKey || ctrl) return;
    switch (event.key) {
      case "j": case "ArrowDown": select(Math.min(current + 1, lines.length - 1)); break;
      case "k": case "ArrowUp": select(Math.max(current - 1, 0)); break;
      case "n": nextLow(1); break;
      case "N": nextLow(-1); break;
      case "Enter": case "e": if (current >= 0) edit(current); else select(0); break;
      case "m": {
        const first = meta && meta.querySelector("input:not([type=hidden]), select, textarea");
        if (first) { first.focus(); first.scrollIntoView({ block: "center" }); }
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  // Start where the address says (after a plain-form save), else at the first line.
  const start = lines.findIndex(function (li) { return "#" + li.id === location.hash; });
  if (lines.length) select(start >= 0 ? start : 0, start >= 0);
  started = true;
})();
