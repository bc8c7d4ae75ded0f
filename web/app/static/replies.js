// 答复文书: preview in place, and show that generating or signing is under way.
(function () {
  "use strict";

  function busy(container, text) {
    if (!container) { return; }
    var label = container.querySelector(".busy-text, #busy-text");
    if (label) { label.textContent = text; }
    container.hidden = false;
  }

  var form = document.getElementById("reply-form");
  if (form) {
    var previewButton = document.getElementById("preview-button");
    var generateButton = document.getElementById("generate-button");
    var indicator = document.getElementById("busy");
    var pages = document.getElementById("preview-pages");
    var errorBox = document.getElementById("preview-error");

    var setWorking = function (working, text) {
      previewButton.disabled = working;
      generateButton.disabled = working;
      form.setAttribute("aria-busy", working ? "true" : "false");
      if (working) { busy(indicator, text); } else { indicator.hidden = true; }
    };

    var showPreview = function () {
      if (!form.reportValidity()) { return; }
      var data = new FormData(form);
      setWorking(true, "正在生成预览…");
      errorBox.hidden = true;
      fetch(form.dataset.preview, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: {
          "Accept": "application/json",
          "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content
        }
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        if (!result.ok) { throw new Error(result.body.error || "预览失败"); }
        pages.textContent = "";
        result.body.pages.forEach(function (url, i) {
          var img = document.createElement("img");
          img.src = url;
          img.alt = "预览第 " + (i + 1) + " 页";
          pages.appendChild(img);
        });
        pages.parentElement.scrollTop = 0;  // the preview column scrolls on its own
      }).catch(function (error) {
        errorBox.textContent = error.message === "Failed to fetch" ? "无法连接服务器，请重试" : error.message;
        errorBox.hidden = false;
      }).then(function () { setWorking(false); });
    };

    previewButton.addEventListener("click", function (event) {
      event.preventDefault();
      showPreview();
    });
    document.addEventListener("keydown", function (event) {
      if (!event.altKey || event.ctrlKey || event.metaKey || previewButton.disabled) { return; }
      var key = event.key.toLowerCase();
      if (key === "p") {
        event.preventDefault();
        showPreview();
      } else if (key === "g") {
        event.preventDefault();
        form.requestSubmit(generateButton);
      }
    });
    form.addEventListener("submit", function (event) {
      if (event.submitter === previewButton) { return; }
      // A plain form post: the server answers with the new reply's page.
      window.setTimeout(function () { setWorking(true, "正在生成文书（编号、Word、PDF）…"); }, 0);
    });
  }

  document.querySelectorAll("form.busy-form").forEach(function (busyForm) {
    busyForm.addEventListener("submit", function () {
      var button = busyForm.querySelector("button[type=submit]");
      window.setTimeout(function () {
        button.disabled = true;
        busy(busyForm.querySelector(".busy"), button.dataset.busy || "正在处理…");
      }, 0);
    });
  });
})();
