// The console's only script: "select all" for the dead-letter table, and a bulk replay's live progress.
// Everything works without it (the replay page shows its state when reloaded).
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-select-all]")) {
    box.addEventListener("change", () => {
      for (const item of document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`)) item.checked = box.checked;
    });
  }
  const run = document.querySelector("[data-progress]");
  if (run) follow(run, run.dataset.progress);
});

// Polls the replay's progress every second until it is finished; each job's result as it comes.
function follow(run, url) {
  const poll = async () => {
    let state;
    try {
      const answer = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (!answer.ok) return setTimeout(poll, 3000);
      state = await answer.json();
    } catch (error) {
      return setTimeout(poll, 3000);
    }
    document.getElementById("progress").textContent = state.progress;
    const bar = document.getElementById("progress-bar");
    bar.value = state.done;
    bar.textContent = `${state.done}/${state.total}`;
    for (const cell of run.querySelectorAll("[data-job]")) {
      const result = state.results[cell.dataset.job];
      if (result !== undefined) cell.textContent = result;
    }
    if (state.finished) {
      document.getElementById("replay-state").textContent = document.getElementById("finished-text").textContent;
      run.dataset.finished = "1";
    } else {
      setTimeout(poll, 1000);
    }
  };
  poll();
}
