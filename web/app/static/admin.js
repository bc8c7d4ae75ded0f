// 系统管理: ask before changes that cannot be taken back with one click (停用, 删除).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : "";
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
