// Drafts: the answers on the exercise page are saved on the server a few seconds after typing
// and when an answer loses focus; shown as "saved at"; kept in this browser while the server
// cannot take them (signed out, offline) and sent once it can; a warning before leaving with
// unsaved edits. Works on the plain textareas as well as on the code editor (which keeps its
// textarea up to date and fires "input" on it).
(function () {
  "use strict";
  const form = document.getElementById("browser-form");
  if (!form || !form.dataset.draftUrl) return;
  const url = form.dataset.draftUrl;
  const status = document.getElementById("draft-status");
  const msg = (key) => form.dataset["msg" + key.charAt(0).toUpperCase() + key.slice(1)] || key;
  const areas = () => Array.from(form.querySelectorAll("textarea.code-editor"));
  const localKey = "atlas-draft:" + form.dataset.draftOwner + ":" + url;
  const AUTOSAVE_MS = 3000;
  const RETRY_MS = 10000;
  let csrf = form.querySelector("input[name=csrf_token]").value;
  let dirty = false; // edits the server does not have yet
  let saving = null; // the request in flight
  let timer = null;

  const answers = () => Object.fromEntries(areas().map((a) => [a.name.replace(/^answer-/, ""), a.value]));
  const timeText = (iso) => new Date(iso).toLocaleTimeString(document.documentElement.lang || undefined);

  function show(text, state, link) {
    status.dataset.state = state;
    status.replaceChildren(document.createTextNode(text));
    if (link) {
      const a = document.createElement("a");
      a.href = link.href;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = link.text;
      status.append(" ", a);
    }
  }
  const showSaved = (iso) => {
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = timeText(iso);
    const [before, after] = msg("saved").split("{time}");
    status.dataset.state = "saved";
    status.replaceChildren(document.createTextNode(before), time, document.createTextNode(after || ""));
  };

  function keepLocally() {
    try {
      localStorage.setItem(localKey, JSON.stringify({ answers: answers(), at: new Date().toISOString() }));
    } catch (e) { /* private mode or full: the server copy is all there is */ }
  }
  function forgetLocally() {
    try { localStorage.removeItem(localKey); } catch (e) { /* as above */ }
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(save, ms);
  }

  function refreshToken() {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r)))
      .then((data) => { csrf = data.csrf_token; });
  }

  function put(keepalive) {
    return fetch(url, {
      method: "PUT",
      keepalive: !!keepalive,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ answers: answers() }),
    });
  }

  function save(keepalive) {
    clearTimeout(timer);
    if (!dirty) return Promise.resolve();
    if (saving) { schedule(AUTOSAVE_MS); return saving; }
    dirty = false;
    show(msg("saving"), "saving");
    saving = put(keepalive)
      // A stale CSRF token (signed in again elsewhere, token expired): take a fresh one and
      // retry once; signed out, the GET answers 401 and that is what the trainee is told.
      .then((r) => (r.status === 400 ? refreshToken().then(() => put(keepalive), (failed) => failed) : r))
      .then((r) => r.json().catch(() => ({})).then((body) => ({ r, body })))
      .then(({ r, body }) => {
        if (r.ok) {
          if (!dirty) forgetLocally();
          showSaved(body.saved_at);
          return;
        }
        dirty = true;
        if (r.status === 401) {
          show(msg("signedOut"), "error", { href: form.dataset.loginUrl, text: msg("signIn") });
          schedule(RETRY_MS);
        } else {
          show(msg("failed").replace("{reason}", body.error || String(r.status)), "error");
        }
      })
      .catch(() => {
        dirty = true;
        show(msg("offline"), "error");
        schedule(RETRY_MS);
      })
      .finally(() => { saving = null; });
    return saving;
  }

  function edited() {
    dirty = true;
    keepLocally();
    if (status.dataset.state !== "error") show(msg("unsaved"), "unsaved");
    schedule(AUTOSAVE_MS);
  }

  // Edits this browser kept but the server never got (signed out, offline, tab closed) win over
  // an older server copy; they are sent at once.
  function restoreLocal() {
    let kept = null;
    try { kept = JSON.parse(localStorage.getItem(localKey) || "null"); } catch (e) { kept = null; }
    if (!kept || !kept.answers) return;
    const serverAt = form.dataset.draftSavedAt;
    if (serverAt && new Date(serverAt) >= new Date(kept.at)) { forgetLocally(); return; }
    let changed = false;
    areas().forEach((a) => {
      const value = kept.answers[a.name.replace(/^answer-/, "")];
      if (typeof value === "string" && value !== a.value) {
        a.value = value;
        a.dispatchEvent(new Event("atlas:set"));
        changed = true;
      }
    });
    if (changed) {
      dirty = true;
      show(msg("restored"), "unsaved");
      schedule(0);
    } else {
      forgetLocally();
    }
  }

  form.addEventListener("input", edited);
  form.addEventListener("focusout", () => { if (dirty) save(); });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && dirty) save(true);
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty && !saving) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need it set to show their warning
  });

  if (form.dataset.draftSavedAt) showSaved(form.dataset.draftSavedAt);
  restoreLocal();
})();
