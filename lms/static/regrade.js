// Regrade progress: polls the run's JSON while it is unfinished, moves the bar and the
// "x of N done" line, and reloads the page once every attempt is done (to show the scores).
(function () {
  "use strict";
  const box = document.getElementById("regrade-progress");
  if (!box || box.dataset.finished === "true") return;
  const bar = box.querySelector("progress");
  const line = box.querySelector("[data-done-line]");
  const POLL_MS = 2000;

  function render(p) {
    bar.max = p.total;
    bar.value = p.done;
    line.textContent = box.dataset.template
      .replace("%(done)s", String(p.done))
      .replace("%(total)s", String(p.total));
  }

  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((p) => {
        render(p);
        if (p.finished) window.location.reload();
        else window.setTimeout(poll, POLL_MS);
      })
      .catch(() => window.setTimeout(poll, POLL_MS * 3));
  }
  window.setTimeout(poll, POLL_MS);
})();
