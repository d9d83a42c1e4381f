// Exercise page: submit without a reload, then follow the grading until the score is in.
(function () {
  "use strict";
  const panel = document.getElementById("result");
  if (!panel) return;
  // msg("notice-review") reads data-msg-notice-review (dataset key msgNoticeReview).
  const camel = (key) => key.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  const msg = (key) => panel.dataset["msg" + camel(key.charAt(0).toUpperCase() + key.slice(1))] || key;
  const statusLine = panel.querySelector(".result-status");
  const body = panel.querySelector(".result-body");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const fmt = (x) => (x === null || x === undefined ? "–" : String(Math.round(x * 100) / 100));

  function showError(text) {
    panel.hidden = false;
    statusLine.textContent = "";
    body.replaceChildren(el("p", { class: "flash flash-error", role: "alert" }, text));
  }

  function render(data) {
    panel.hidden = false;
    panel.dataset.state = data.status;
    if (!data.finished) {
      const ahead = data.jobs_ahead ? ` (${data.jobs_ahead} ${msg("ahead")})` : "";
      statusLine.replaceChildren(el("span", { class: "spinner" }), document.createTextNode(" " + msg(data.status) + ahead));
      body.replaceChildren();
      return;
    }
    statusLine.textContent = data.purpose === "check" ? msg("check") : msg(data.status);
    const parts = [];
    if (data.error) parts.push(el("p", { class: "flash flash-error", role: "alert" }, data.error));
    // Plain notices only (the grader's flags can tell where hidden tests are: staff read them).
    (data.notices || []).forEach((n) => parts.push(el("p", { class: "flash notice-" + n }, msg("notice-" + n))));
    if (data.status === "graded") {
      parts.push(el("p", { class: "result-score" }, msg("score") + ": " + fmt(data.score) + " / " + fmt(data.max_score)));
      const table = el("table", { class: "table cells" });
      const head = el("tr");
      head.append(el("th", {}, msg("test")), el("th", {}, msg("points")));
      table.append(head);
      data.cells.forEach((cell) => {
        const row = el("tr", { "data-grade-id": cell.grade_id });
        const cls = cell.needs_manual_grade ? "cell-manual" : (cell.score >= cell.max_score ? "cell-ok" : "cell-bad");
        let pts = cell.needs_manual_grade ? msg("manual") : fmt(cell.score) + " / " + fmt(cell.max_score);
        if (cell.manually_graded) pts += " (" + msg("byInstructor") + ")";
        row.append(el("td", {}, cell.grade_id), el("td", { class: cls }, pts));
        table.append(row);
      });
      parts.push(table);
    }
    if (data.feedback_url) {
      const heading = el("h3", {}, msg("feedback") + " ");
      heading.append(el("a", { href: data.feedback_url, target: "_blank", rel: "noopener" }, msg("openFeedback")));
      parts.push(heading);
      // Empty sandbox: the feedback (which echoes trainee code) can run nothing.
      parts.push(el("iframe", { class: "feedback-frame", sandbox: "", src: data.feedback_url, title: msg("feedback") }));
    }
    body.replaceChildren(...parts);
    if (data.purpose === "grade") addAttempt(data);
  }

  // A finished graded attempt joins the history table at once (no reload).
  function addAttempt(data) {
    const table = document.querySelector("#attempts table");
    if (!table || table.querySelector(`tr[data-submission-id="${data.id}"]`)) return;
    const rows = table.tBodies[0];
    const row = el("tr", { "data-submission-id": String(data.id) });
    const link = el("a", { href: data.page_url }, String(rows.rows.length + 1));
    const when = new Date(data.created_at).toISOString().slice(0, 16).replace("T", " ") + " UTC";
    const cellNumber = el("td");
    cellNumber.append(link);
    row.append(cellNumber, el("td", {}, when), el("td", {}, msg(data.origin)),
      el("td", {}, msg(data.status)),
      el("td", {}, data.score === null ? "–" : fmt(data.score) + " / " + fmt(data.max_score)));
    rows.prepend(row);
    table.hidden = false;
    const none = document.querySelector("#attempts .no-attempt");
    if (none) none.remove();
  }

  // The first look comes 0.1 s after the submission (a warm grader needs about that), then
  // each wait is 1.2 times longer, up to 2 s: a result reaches the page within 0.1 s of being
  // graded for gradings up to ~0.5 s (within 20% of the time after that), ten requests cover
  // the first 2.6 s, and a long queue costs one request every 2 s.
  const FIRST_POLL_MS = 100, BACK_OFF = 1.2, MAX_POLL_MS = 2000;
  function follow(url, first) {
    let delay = FIRST_POLL_MS;
    const tick = () => {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
        .then((data) => {
          render(data);
          if (!data.finished) { setTimeout(tick, delay); delay = Math.min(delay * BACK_OFF, MAX_POLL_MS); }
        })
        .catch(() => { statusLine.textContent = msg("network"); setTimeout(tick, 3000); });
    };
    if (first) setTimeout(tick, first); else tick();
  }

  document.querySelectorAll("form.submit-form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      if (event.submitter && event.submitter.name) data.set(event.submitter.name, event.submitter.value);
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => (b.disabled = true));
      const oldError = document.getElementById("form-error");
      if (oldError) oldError.remove();
      // form.action would be the button named "action"; the attribute is the URL.
      fetch(form.getAttribute("action"), { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => r.json().catch(() => ({ error: r.statusText })).then((json) => ({ r, json })))
        .then(({ r, json }) => {
          if (json.next_token) form.querySelector("input[name=token]").value = json.next_token;
          if (r.status === 202) { render({ status: "queued", finished: false }); follow(json.status_url, FIRST_POLL_MS); return; }
          showError(json.error || String(r.status));
          if (json.status_url) follow(json.status_url);
        })
        .catch(() => showError(msg("network")))
        .finally(() => buttons.forEach((b) => (b.disabled = false)));
    });
  });

  // Tab in an answer inserts four spaces instead of leaving the editor (Esc then Tab leaves).
  document.querySelectorAll("textarea.code-editor").forEach((area) => {
    let escaped = false;
    area.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { escaped = true; return; }
      if (e.key === "Tab" && !e.shiftKey && !escaped) {
        e.preventDefault();
        area.setRangeText("    ", area.selectionStart, area.selectionEnd, "end");
      }
      escaped = false;
    });
  });

  if (panel.dataset.statusUrl) follow(panel.dataset.statusUrl);
})();
