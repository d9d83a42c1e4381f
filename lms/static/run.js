// Exercise page: run the notebook (or up to one cell) in the sandbox and show outputs inline.
(function () {
  "use strict";
  const form = document.getElementById("browser-form");
  if (!form || !form.dataset.runUrl) return;
  const buttons = form.querySelectorAll("button.run-all, button.run-upto");
  const status = document.createElement("p");
  status.className = "run-status";
  status.setAttribute("role", "status");
  form.querySelector(".actions").after(status);

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function show(container, outputs) {
    container.replaceChildren(...outputs.map((out) => (out.kind === "image"
      ? el("img", { class: "output", alt: "", src: out.src })
      : el("pre", { class: "output output-" + out.kind, tabindex: "0" }, out.text))));
  }

  function run(upto) {
    const data = new FormData(form);
    if (upto !== null) data.set("upto", String(upto));
    buttons.forEach((b) => (b.disabled = true));
    status.textContent = form.dataset.msgRunning;
    const started = performance.now();
    fetch(form.dataset.runUrl, { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => r.json().catch(() => ({ error: r.statusText })))
      .then((json) => {
        if (json.error) { status.textContent = json.error; return; }
        form.querySelectorAll(".cell-outputs").forEach((box) => {
          if (upto === null || Number(box.dataset.cell) <= upto) box.replaceChildren();
        });
        json.cells.forEach((cell) => {
          const box = form.querySelector(`.cell-outputs[data-cell="${cell.index}"]`);
          if (box) show(box, cell.outputs);
        });
        const events = (json.events || []).map((e) => e.text).join(" ");
        status.textContent = events;
        status.dataset.ms = String(Math.round(performance.now() - started));
        form.dataset.ran = String(Number(form.dataset.ran || 0) + 1);
      })
      .catch((e) => { status.textContent = String(e); })
      .finally(() => buttons.forEach((b) => (b.disabled = false)));
  }

  form.querySelectorAll("button.run-all").forEach((b) => b.addEventListener("click", () => run(null)));
  form.querySelectorAll("button.run-upto").forEach((b) => b.addEventListener("click", () => run(Number(b.dataset.upto))));
})();
