/* Clinician workspace: keyboard shortcuts and next-item loading without a page reload.
 *
 * Progressive enhancement: every page works without this file (forms post to the page and
 * redirect). With it, elements carrying data-key="k" are activated by that key (radios and
 * checkboxes are clicked, text fields focused, <select data-action="cycle"> stepped), keys inside
 * a .kbd-scope only act on the current scope (j/k move between scopes), and forms with data-api
 * are sent as JSON to the /api/v1/ endpoint, after which the next item is taken through the API
 * and its panel (?fragment=1) swapped in.
 */
(function () {
  "use strict";
  const pageOf = (loc) => loc.pathname + loc.search;
  let shownPage = pageOf(window.location); // the page the document shows (items load in place)

  const PANEL = "#workspace-panel";
  const SKIPPED_KEY = "ari-skipped";

  function root() {
    return document.querySelector(PANEL) || document.querySelector("main") || document.body;
  }

  function csrfToken() {
    const field = document.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function isTextField(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    if (el.tagName !== "INPUT") return false;
    return !["radio", "checkbox", "button", "submit", "reset", "hidden", "file"].includes(el.type);
  }

  /* ---------- scopes (Ari's replies, candidates) ---------- */

  function scopes() {
    return Array.from(root().querySelectorAll(".kbd-scope"));
  }

  function currentScope() {
    return root().querySelector(".kbd-scope.is-current");
  }

  function setCurrent(scope) {
    scopes().forEach((s) => {
      s.classList.toggle("is-current", s === scope);
      s.setAttribute("aria-current", s === scope ? "true" : "false");
    });
    if (scope) {
      scope.focus({ preventScroll: true });
      scope.scrollIntoView({ block: "nearest" });
    }
  }

  function moveScope(step) {
    const all = scopes();
    if (!all.length) return;
    const index = all.indexOf(currentScope());
    const next = all[Math.max(0, Math.min(all.length - 1, index + step))] || all[0];
    setCurrent(next);
  }

  function initPanel() {
    const all = scopes();
    if (all.length && !currentScope()) {
      all[0].classList.add("is-current");
      all[0].setAttribute("aria-current", "true");
    }
  }

  /* ---------- key targets ---------- */

  function byKey(container, key) {
    return Array.from(container.querySelectorAll("[data-key]")).filter(
      (el) => el.dataset.key === key && !el.disabled && el.offsetParent !== null
    );
  }

  function findTarget(key) {
    const scope = currentScope();
    if (scope) {
      const inScope = byKey(scope, key);
      if (inScope.length) return inScope[0];
    }
    const global = byKey(root(), key).filter((el) => !el.closest(".kbd-scope"));
    if (global.length) return global[0];
    if (root() !== document.body) {
      const anywhere = byKey(document.body, key).filter((el) => !el.closest(".kbd-scope"));
      if (anywhere.length) return anywhere[0];
    }
    return null;
  }

  function cycle(select, step) {
    const count = select.options.length; // option 0 is "unset"
    let index = select.selectedIndex;
    if (index <= 0) index = step > 0 ? 1 : count - 1;
    else index = ((index - 1 + step + (count - 1)) % (count - 1)) + 1;
    select.selectedIndex = index;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    announce(`${select.name.split("_")[0]} ${select.value}`);
  }

  function activate(el, shift) {
    if (el.dataset.action === "cycle") {
      cycle(el, shift ? -1 : 1);
    } else if (isTextField(el)) {
      el.focus();
    } else {
      el.click();
    }
  }

  function announce(text) {
    let region = document.getElementById("ws-live");
    if (!region) {
      region = document.createElement("div");
      region.id = "ws-live";
      region.className = "sr-only";
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = text;
  }

  function showError(message) {
    const box = root().querySelector("[data-error]");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    } else {
      window.alert(message);
    }
  }

  /* ---------- API ---------- */

  async function api(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(payload || {}),
    });
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return body.detail || JSON.stringify(body);
    } catch (e) {
      return `The server answered ${response.status}.`;
    }
  }

  function skipped(kind) {
    try {
      return JSON.parse(sessionStorage.getItem(`${SKIPPED_KEY}-${kind}`) || "[]");
    } catch (e) {
      return [];
    }
  }

  function rememberSkip(kind, id) {
    const list = skipped(kind).filter((x) => x !== id).slice(-199);
    list.push(id);
    sessionStorage.setItem(`${SKIPPED_KEY}-${kind}`, JSON.stringify(list));
  }

  let busy = false;

  async function loadNext(nextUrl) {
    const panel = document.querySelector(PANEL);
    const kind = panel ? panel.dataset.kind : "";
    const response = await api(nextUrl, { exclude: skipped(kind) });
    if (!response.ok) {
      showError(await errorText(response));
      return;
    }
    const data = await response.json();
    if (!data.item) {
      sessionStorage.removeItem(`${SKIPPED_KEY}-${kind}`);
      const queueUrl = panel.dataset.queueUrl;
      panel.innerHTML =
        '<div class="ws-empty" role="status"><h1>All done</h1>' +
        "<p>Nothing left in this queue for you. Thank you!</p>" +
        `<p>Done today: <strong data-testid="done-today">${data.progress.done_today}</strong></p>` +
        `<p><a href="${queueUrl}">Back to the queue</a></p></div>`;
      announce("Queue finished.");
      return;
    }
    const fragment = await fetch(data.item.fragment_url, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    });
    if (!fragment.ok) {
      window.location.href = data.item.page_url;
      return;
    }
    panel.innerHTML = await fragment.text();
    history.pushState({ item: data.item.id }, "", data.item.page_url);
    shownPage = pageOf(window.location);
    initPanel();
    panel.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    announce(`Loaded item ${data.item.id}.`);
  }

  /* ---------- payloads ---------- */

  function radioValue(form, name) {
    const checked = form.querySelector(`input[name="${name}"]:checked`);
    return checked ? checked.value : null;
  }

  const builders = {
    review(form) {
      const appropriateness = radioValue(form, "appropriateness");
      if (!appropriateness) return { error: "Choose the overall appropriateness (keys 1-4)." };
      const replies = Array.from(form.querySelectorAll('input[name^="reply_"]')).map((input) => {
        const id = input.name.slice("reply_".length);
        const validated = radioValue(form, `validated_${id}`);
        return {
          message_id: Number(id),
          flags: Array.from(form.querySelectorAll(`input[name="flags_${id}"]:checked`)).map(
            (c) => c.value
          ),
          validated: validated === "yes" ? true : validated === "no" ? false : null,
        };
      });
      return { appropriateness, replies, note: form.elements.note ? form.elements.note.value : "" };
    },
    safety(form) {
      const risk = radioValue(form, "risk_level");
      if (!risk) return { error: "Choose a risk level (keys 0-3)." };
      return {
        risk_level: risk,
        category: radioValue(form, "category") || "",
        urgency: radioValue(form, "urgency") || "none",
        suggestion_shown: form.elements.suggestion_shown.value === "1",
      };
    },
    intent(form) {
      const intent = radioValue(form, "intent");
      if (!intent) return { error: "Choose an intent (keys 1-9, 0)." };
      return { intent, suggestion_shown: form.elements.suggestion_shown.value === "1" };
    },
    preference(form) {
      const choice = radioValue(form, "choice");
      if (!choice) return { error: "Pick the best reply (1-3) or a tie (0)." };
      const scores = [];
      for (const input of form.querySelectorAll('input[name="candidate"]')) {
        const id = input.value;
        const score = { candidate_id: Number(id) };
        for (const dim of ["empathy", "presence", "stabilization", "safety"]) {
          const value = form.elements[`${dim}_${id}`].value;
          if (value === "") return { error: "Give every candidate all four scores (0-3)." };
          score[dim] = Number(value);
        }
        const unsafe = form.querySelector(`input[name="unsafe_${id}"]`);
        score.unsafe = Boolean(unsafe && unsafe.checked);
        scores.push(score);
      }
      return {
        chosen_id: choice === "tie" ? null : Number(choice),
        tie: choice === "tie",
        scores,
        note: form.elements.note ? form.elements.note.value : "",
      };
    },
  };

  // A pair compared dimension by dimension: key 1-5 -> (better letter, margin).
  const SCALE = { 1: ["A", 2], 2: ["A", 1], 3: ["", 0], 4: ["B", 1], 5: ["B", 2] };

  builders["preference-pair"] = function (form) {
    const letters = {};
    const scores = [];
    for (const input of form.querySelectorAll('input[name="candidate"]')) {
      letters[input.dataset.letter] = Number(input.value);
      const unsafe = form.querySelector(`input[name="unsafe_${input.value}"]`);
      scores.push({ candidate_id: Number(input.value), unsafe: Boolean(unsafe && unsafe.checked) });
    }
    const comparison = [];
    for (const row of form.querySelectorAll("[data-dim-row]")) {
      const answer = radioValue(form, `cmp_${row.dataset.dimRow}`);
      if (!answer) return { error: `Compare the replies on ${row.dataset.dimRow} (keys 1-5).` };
      const [better, margin] = SCALE[answer];
      comparison.push({
        dimension: row.dataset.dimRow,
        better_id: better ? letters[better] : null,
        margin,
      });
    }
    const choice = radioValue(form, "choice");
    if (!choice) return { error: "Pick the better reply overall (a or b) or a tie (=)." };
    return {
      chosen_id: choice === "tie" ? null : Number(choice),
      tie: choice === "tie",
      scores,
      comparison,
      note: form.elements.note ? form.elements.note.value : "",
    };
  };

  /* ---------- dimension rows (number keys, then the next row) ---------- */

  function dimRows() {
    return Array.from(root().querySelectorAll("[data-dim-row]"));
  }

  function answered(row) {
    return Boolean(row.querySelector("input[type=radio]:checked"));
  }

  function focusRow(row) {
    const radio = row.querySelector("input[type=radio]:checked") || row.querySelector("input[type=radio]");
    if (radio) radio.focus();
  }

  // A digit answers the row holding focus, else the first unanswered one; focus then moves to
  // the next unanswered row, or to the overall choice once every row is answered.
  function answerDimension(key) {
    const rows = dimRows();
    if (!rows.length) return false;
    const active = document.activeElement;
    let row = rows.find((r) => r.contains(active)) || rows.find((r) => !answered(r));
    if (!row) return false;
    const radio = row.querySelector(`input[data-dim-value="${key}"]`);
    if (!radio) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    announce(`${row.dataset.dimRow}: ${radio.parentElement.textContent.trim().replace(/\s+\S+$/, "")}`);
    const after = rows.slice(rows.indexOf(row) + 1).concat(rows.slice(0, rows.indexOf(row)));
    const next = after.find((r) => !answered(r));
    if (next) {
      focusRow(next);
    } else {
      const choice = root().querySelector("[data-choice] input[type=radio]");
      if (choice) choice.focus();
    }
    return true;
  }

  /* ---------- keyboard help overlay (?) ---------- */

  let helpReturn = null;

  function helpDialog() {
    let dialog = document.getElementById("kbd-help");
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "kbd-help";
    dialog.className = "kbd-help";
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", "kbd-help-title");
    dialog.innerHTML =
      '<h2 id="kbd-help-title">Keyboard shortcuts</h2><div data-help-body></div>' +
      '<p><button type="button" data-help-close>Close <kbd>Esc</kbd></button></p>';
    dialog.querySelector("[data-help-close]").addEventListener("click", closeHelp);
    dialog.addEventListener("close", () => {
      if (helpReturn && document.contains(helpReturn)) helpReturn.focus({ preventScroll: true });
      helpReturn = null;
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  // The keys of the page as it is now: the list in its (no-JavaScript) "Keyboard shortcuts".
  function openHelp() {
    const source = root().querySelector("details.shortcuts dl") || document.querySelector("details.shortcuts dl");
    if (!source) return false;
    const dialog = helpDialog();
    if (dialog.open) return true;
    const body = dialog.querySelector("[data-help-body]");
    body.innerHTML = "";
    const list = source.cloneNode(true);
    list.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
    list.querySelectorAll("[data-key]").forEach((el) => el.removeAttribute("data-key"));
    body.appendChild(list);
    helpReturn = document.activeElement;
    dialog.showModal();
    dialog.querySelector("[data-help-close]").focus();
    return true;
  }

  function closeHelp() {
    const dialog = document.getElementById("kbd-help");
    if (dialog && dialog.open) dialog.close();
  }

  /* ---------- events ---------- */

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.api || !window.fetch) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    try {
      if (form.hasAttribute("data-skip")) {
        const panel = document.querySelector(PANEL);
        const response = await api(form.dataset.api, {});
        if (!response.ok && response.status !== 204) {
          showError(await errorText(response));
          return;
        }
        rememberSkip(panel.dataset.kind, Number(form.dataset.itemId));
        await loadNext(form.dataset.next);
        return;
      }
      const build = builders[form.dataset.kind];
      const payload = build ? build(form) : {};
      if (payload.error) {
        showError(payload.error);
        return;
      }
      const response = await api(form.dataset.api, payload);
      if (!response.ok) {
        showError(await errorText(response));
        return;
      }
      announce("Saved.");
      await loadNext(form.dataset.next);
    } catch (error) {
      showError("Could not reach the server; nothing was lost. Try again.");
    } finally {
      busy = false;
    }
  });

  // "Accept the suggestion" (key m): tick the model's values, then the click submits the form.
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[name=accept_suggestion]");
    if (!button || !button.form) return;
    for (const [key, value] of Object.entries(button.dataset)) {
      if (!key.startsWith("accept")) continue;
      const name = key.slice("accept".length).replace(/^[A-Z]/, (c) => c.toLowerCase());
      const radio = Array.from(button.form.querySelectorAll(`input[type=radio][name="${name}"]`)).find(
        (r) => r.value === value
      );
      if (radio) radio.checked = true;
    }
  });

  document.addEventListener("click", (event) => {
    const scope = event.target.closest && event.target.closest(".kbd-scope");
    if (scope && !scope.classList.contains("is-current")) setCurrent(scope);
  });

  function submitMain() {
    const form = root().querySelector("form[data-main]");
    if (!form) return false;
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
    return true;
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const help = document.getElementById("kbd-help");
    if (help && help.open) {
      if (event.key === "Escape" || event.key === "?") {
        event.preventDefault();
        closeHelp();
      }
      return; // the dialog is modal: no page shortcut acts behind it
    }
    if (event.key === "Escape") {
      if (isTextField(target)) target.blur();
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      const form = target.form || (target.closest && target.closest("form"));
      if (form) {
        event.preventDefault();
        const button = form.querySelector("[data-ctrl-enter]");
        if (button) button.click();
        else if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTextField(target)) return;
    const key = event.key;
    if (key === "Enter") {
      if (target.tagName === "BUTTON" || target.tagName === "A" || target.tagName === "SUMMARY") {
        return;
      }
      if (submitMain()) event.preventDefault();
      return;
    }
    if (key === "?") {
      if (openHelp()) event.preventDefault();
      return;
    }
    if (/^[1-5]$/.test(key) && answerDimension(key)) {
      event.preventDefault();
      return;
    }
    if ((key === "j" || key === "k") && scopes().length && !findTargetStrict(key)) {
      moveScope(key === "j" ? 1 : -1);
      event.preventDefault();
      return;
    }
    let el = findTarget(key);
    let shift = false;
    if (!el && key.length === 1 && key !== key.toLowerCase()) {
      el = findTarget(key.toLowerCase());
      shift = true;
    }
    if (el) {
      event.preventDefault();
      activate(el, shift);
    }
  });

  function findTargetStrict(key) {
    return byKey(root(), key).length ? byKey(root(), key)[0] : null;
  }

  // Back and forward between items loaded in place reload the page they name. An in-page link
  // ("Skip to content", "#decision") also fires popstate: the page shown is the same, no reload.
  window.addEventListener("popstate", () => {
    if (pageOf(window.location) !== shownPage) window.location.reload();
  });

  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll(".plot").forEach((div) => {
      const data = document.getElementById(`${div.id}-data`);
      if (!data) return;
      const figure = JSON.parse(data.textContent);
      // The chart is aria-hidden (its table below says the same to screen readers), so it must
      // hold nothing focusable: no mode bar, and anything Plotly makes focusable taken out of
      // the tab order (axe: aria-hidden-focus).
      window.Plotly.newPlot(div, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
        displayModeBar: false,
      }).then(() => {
        div.querySelectorAll("a[href], button, input, select, textarea, [tabindex]").forEach(
          (el) => el.setAttribute("tabindex", "-1"),
        );
      });
    });
  }

  document.addEventListener("DOMContentLoaded", initPanel);
  window.addEventListener("load", drawCharts);
})();
