// The console's only script: "select all" for the dead-letter table. Everything works without it.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-select-all]")) {
    box.addEventListener("change", () => {
      for (const item of document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`)) item.checked = box.checked;
    });
  }
});
