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
    const events = data.events || [];
    if (events.length) {
      const box = el("div", { class: "flash sandbox-events", role: "status" });
      box.append(el("strong", {}, msg("events")));
      const list = el("ul");
      events.forEach((e) => list.append(el("li", { "data-kind": e.kind }, e.text)));
      box.append(list);
      parts.push(box);
    }
    if (data.status === "graded") {
      const check = data.purpose === "check";
      const label = check ? msg("visibleOnly") : msg("score");
      parts.push(el("p", { class: "result-score" }, msg("scoreLine").replace("{label}", label).replace("{score}", fmt(data.score) + " / " + fmt(data.max_score))));
      if (check && data.hidden_points > 0) {
        parts.push(el("p", { class: "hidden-points" }, msg("hiddenPoints").replace("{n}", fmt(data.hidden_points))));
      }
      const checks = {};
      (data.checks || []).forEach((c) => { checks[c.grade_id] = c; });
      const table = el("table", { class: "table cells" });
      const head = el("tr");
      head.append(el("th", { scope: "col" }, msg("test")), el("th", { scope: "col" }, msg("points")));
      table.append(head);
      data.cells.forEach((cell) => {
        const row = el("tr", { "data-grade-id": cell.grade_id });
        const cls = cell.needs_manual_grade ? "cell-manual" : (cell.score >= cell.max_score ? "cell-ok" : "cell-bad");
        let pts = cell.needs_manual_grade ? msg("manual") : fmt(cell.score) + " / " + fmt(cell.max_score);
        if (cell.manually_graded) pts += " (" + msg("byInstructor") + ")";
        row.append(el("td", {}, cell.grade_id), el("td", { class: cls }, pts));
        table.append(row);
        const why = explain(checks[cell.grade_id], cell, check, events);
        if (why) {
          const detail = el("tr", { class: "check-detail", "data-detail-for": cell.grade_id });
          const td = el("td", { colspan: "2" });
          td.append(why);
          detail.append(td);
          table.append(detail);
        }
      });
      parts.push(table);
    }
    if (data.feedback_url) {
      parts.push(el("h3", {}, msg("feedback")));
      const open = el("p", { class: "feedback-open" });
      open.append(el("a", { href: data.feedback_url, target: "_blank", rel: "noopener" }, msg("openFeedback")));
      parts.push(open);
      // Empty sandbox: the feedback (which echoes trainee code) can run nothing.
      parts.push(el("iframe", { class: "feedback-frame", sandbox: "", src: data.feedback_url, title: msg("feedback") }));
    }
    body.replaceChildren(...parts);
    if (data.purpose === "grade") addAttempt(data);
  }

  // Why a test cell scored what it did: its failing line, the error, both sides of the
  // comparison (all from the run with visible tests only), or that a hidden check failed.
  function explain(c, cell, check, events) {
    const box = el("div", { class: "check" });
    if (c && c.visible === "failed" && c.code !== null) {
      box.append(el("p", {}, msg("failingLine").replace("{n}", String(c.line))));
      box.append(el("pre", { class: "check-code", tabindex: "0" }, c.code));
      const error = c.evalue ? c.ename + ": " + c.evalue : c.ename;
      const dl = el("dl", { class: "check-values" });
      const sides = [[msg("error"), error]];
      if (c.compare) {
        const { op, left, right, expected } = c.compare;
        if (op !== "==") sides.push([msg("left") + " (" + op + ")", left], [msg("right"), right]);
        else if (expected === "left") sides.push([msg("expected"), left], [msg("got"), right]);
        else sides.push([msg("got"), left], [msg("expected"), right]);
      }
      sides.forEach(([term, value]) => {
        const dd = el("dd");
        dd.append(el("pre", { tabindex: "0" }, value));
        dl.append(el("dt", {}, term), dd);
      });
      box.append(dl);
    } else if (c && c.visible === "not-run") {
      box.append(el("p", {}, msg("notRun")));
    } else if (c && c.visible === "passed" && c.has_hidden) {
      if (check) box.append(el("p", {}, msg("visiblePassed") + " " + msg("alsoHidden")));
      else if (cell.score < cell.max_score && !cell.manually_graded) box.append(el("p", { class: "hidden-failed" }, msg("hiddenFailed")));
    }
    events.filter((e) => e.cell === cell.grade_id).forEach((e) => box.append(el("p", { class: "event" }, e.text)));
    return box.childNodes.length ? box : null;
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
