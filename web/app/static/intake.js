// 扫描登记: drop or pick files; each is uploaded on its own request (with a progress bar),
// then its letter is polled until it is indexed (a link to 校对) or has failed (the reason).
"use strict";
(function () {
  const drop = document.getElementById("drop");
  if (!drop) return;
  const picker = document.getElementById("files");
  const tbody = document.querySelector("#queue tbody");
  const empty = document.getElementById("queue-empty");
  const summary = document.getElementById("summary");
  const template = document.getElementById("row-template");
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const maxBytes = Number(drop.dataset.maxMb) * 1024 * 1024;
  const waiting = [];          // rows not yet uploaded
  const watched = new Map();   // letter id -> row being read by the worker
  let uploading = 0;
  let polling = null;

  function addRow(file) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector(".file").textContent = file.name;
    setStatus(row, "等待上传", "waiting");
    tbody.appendChild(row);
    empty.hidden = true;
    return row;
  }

  function setStatus(row, text, state) {
    row.querySelector(".status").textContent = text;
    row.dataset.state = state;
    updateSummary();
  }

  function setBar(row, value) {
    const bar = row.querySelector("progress");
    if (value === null) bar.removeAttribute("value"); else bar.value = value;
  }

  function setLinks(row, item) {
    if (item.reg_no) row.querySelector(".reg").textContent = item.reg_no;
    const cell = row.querySelector(".link");
    if (item.review_url && !cell.firstChild && item.done) {
      const a = document.createElement("a");
      a.href = item.review_url;
      a.textContent = "去校对";
      cell.appendChild(a);
    }
  }

  function updateSummary() {
    const rows = Array.from(tbody.rows);
    const count = (s) => rows.filter((r) => r.dataset.state === s).length;
    const done = count("indexed"), failed = count("failed") + count("refused");
    const dup = count("duplicate");
    const busy = rows.length - done - failed - dup;
    summary.textContent = rows.length ? `共 ${rows.length} 个：已入库 ${done}，重复 ${dup}，失败 ${failed}，进行中 ${busy}` : "";
  }

  function enqueue(files) {
    for (const file of files) waiting.push({ file, row: addRow(file) });
    pump();
  }

  function pump() {
    while (uploading < 2 && waiting.length) {
      const next = waiting.shift();
      uploading += 1;
      upload(next.file, next.row).finally(() => { uploading -= 1; pump(); });
    }
  }

  function upload(file, row) {
    return new Promise((resolve) => {
      if (file.size > maxBytes) {
        setStatus(row, `文件超过 ${drop.dataset.maxMb} MB 上限：请把扫描件分成几份再上传`, "refused");
        row.classList.add("failed");
        resolve();
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open("POST", drop.dataset.upload);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) {
          setBar(row, Math.round((e.loaded / e.total) * 100));
          setStatus(row, `上传中 ${Math.round((e.loaded / e.total) * 100)}%`, "uploading");
        }
      });
      xhr.addEventListener("load", () => { received(row, xhr); resolve(); });
      xhr.addEventListener("error", () => {
        setStatus(row, "上传失败：网络中断，请重试", "refused");
        row.classList.add("failed");
        resolve();
      });
      setStatus(row, "上传中", "uploading");
      xhr.send(file);
    });
  }

  function received(row, xhr) {
    let item = null;
    try { item = JSON.parse(xhr.responseText); } catch (e) { item = null; }
    if (!item) {
      const reason = xhr.status === 413 ? "文件太大，服务器拒收" :
        xhr.status === 400 ? "页面已过期，请刷新后再上传" :
        xhr.status === 401 || xhr.status === 403 ? "没有登录或没有扫描登记的权限" :
        `服务器出错（${xhr.status}）`;
      setStatus(row, "上传失败：" + reason, "refused");
      row.classList.add("failed");
      return;
    }
    setLinks(row, item);
    if (item.error) {
      setStatus(row, item.error, "refused");
      row.classList.add("failed");
      setBar(row, 0);
    } else if (item.duplicate_of && !item.task_id) {
      setStatus(row, `重复：该文件已登记为 ${item.reg_no}，未再次登记`, "duplicate");
      row.classList.add("duplicate");
      setBar(row, 100);
      item.done = true;
      setLinks(row, item);
    } else {
      setStatus(row, "原件已保存，排队等待识别", "stored");
      setBar(row, null);
      watched.set(item.letter_id || item.duplicate_of, row);
      startPolling();
    }
  }

  function startPolling() {
    if (!polling) polling = setInterval(poll, 1500);
  }

  function poll() {
    if (!watched.size) { clearInterval(polling); polling = null; return; }
    const ids = Array.from(watched.keys()).join(",");
    fetch(`${drop.dataset.progress}?ids=${ids}`, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => { if (data) data.letters.forEach(show); })
      .catch(() => {});
  }

  function show(item) {
    const row = watched.get(item.letter_id);
    if (!row) return;
    setLinks(row, item);
    if (item.state === "indexed") {
      setBar(row, 100);
      setStatus(row, item.label, "indexed");
      row.classList.add("done");
      watched.delete(item.letter_id);
    } else if (item.state === "failed") {
      setBar(row, 0);
      setStatus(row, item.error, "failed");
      row.classList.add("failed");
      watched.delete(item.letter_id);
    } else if (item.state === "ocr" && item.pages) {
      setBar(row, Math.round((item.page / item.pages) * 100));
      setStatus(row, item.label, "ocr");
    } else {
      setBar(row, null);
      setStatus(row, item.label, item.state);
    }
  }

  picker.addEventListener("change", () => { enqueue(Array.from(picker.files)); picker.value = ""; });
  ["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.remove("over");
  }));
  drop.addEventListener("drop", (e) => {
    const files = Array.from(e.dataTransfer.files || []);
    if (files.length) enqueue(files);
  });
  // a file dropped beside the zone must not make the browser leave the page
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
})();
