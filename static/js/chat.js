/* Ari chat page: progressive enhancement.
 *
 * Without JavaScript the form posts to the server and the page reloads with the reply.
 * With it, messages go through the JSON API (/api/v1/sessions/<id>/messages/) and appear in
 * the conversation log (an ARIA live region) without a reload. A retried send reuses the same
 * Idempotency-Key, so a flaky connection never runs the same turn twice.
 *
 * The draft stays in the box until the server has accepted it: any failure (no connection, 400,
 * 429, 5xx) leaves it there and says what went wrong. Nothing cuts a long message short: a
 * counter appears near the limit, and over it a notice says so and Send waits. Suggested
 * replies (``reply.suggested_replies``) are buttons under the latest reply that send their text
 * through the same path; a newer reply replaces them.
 */
(function () {
  "use strict";

  var chat = document.getElementById("chat");
  var form = document.getElementById("chat-form");
  if (!chat || !form || !window.fetch) {
    return;
  }
  var textarea = document.getElementById("chat-text");
  var log = document.getElementById("chat-log");
  var statusLine = document.getElementById("chat-status");
  var errorLine = document.getElementById("chat-error");
  var sendButton = document.getElementById("chat-send");
  var crisisPanel = document.getElementById("crisis-panel");
  var stepLabel = document.getElementById("flow-step-label");
  var keyInput = form.querySelector("input[name=idempotency_key]");
  var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  var countLine = document.getElementById("chat-count");
  var limitNotice = document.getElementById("chat-limit");
  var suggestionForm = document.getElementById("suggested-replies");
  var suggestionGroup = suggestionForm && suggestionForm.querySelector("[role=group]");
  var apiUrl = chat.getAttribute("data-api-url");
  var maxChars = parseInt(textarea.getAttribute("data-max-chars"), 10) || 4000;
  var nearChars = Math.floor(maxChars * 0.9);
  var sending = false;
  var overLimit = false;
  var noticeTimer = null;
  // The text last sent with the current Idempotency-Key and not yet answered: a retry of the
  // same text reuses the key (the server replays the turn); different text gets a new key.
  var unansweredText = null;

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  var retryButton = document.getElementById("chat-retry");
  var signInLink = document.getElementById("chat-sign-in");
  var retryText = null; // what the retry button sends again (a suggested reply is not in the box)

  function setError(message) {
    errorLine.textContent = message || "";
    if (!message) {
      showRetry(null);
      showSignIn(false);
    }
  }

  function showRetry(text) {
    retryText = text;
    if (retryButton) {
      retryButton.hidden = text === null;
    }
  }

  function showSignIn(show) {
    if (signInLink) {
      signInLink.hidden = !show;
    }
  }

  // --- The draft survives a reload, a lost connection and an expired sign-in (this device) ---

  var draftKey = "ari-draft:" + apiUrl;

  function draftSave() {
    try {
      if (textarea.value.trim()) {
        window.localStorage.setItem(draftKey, textarea.value);
      } else {
        window.localStorage.removeItem(draftKey);
      }
    } catch (e) {
      /* storage off (private mode): the draft stays in the box only */
    }
  }

  function draftRestore() {
    try {
      var saved = window.localStorage.getItem(draftKey);
      if (saved && !textarea.value.trim()) {
        textarea.value = saved;
        statusLine.textContent = "Your unsent message is back in the box.";
      }
    } catch (e) {
      /* storage off */
    }
  }

  // --- Length: counted as the server counts (code points, surrounding whitespace trimmed) ---

  function charCount(text) {
    return Array.from(text.trim()).length;
  }

  function formatCount(n) {
    return n.toLocaleString("en-US");
  }

  function limitMessage(n) {
    return (
      "Your message is " + formatCount(n) + " characters; the limit is " + formatCount(maxChars) +
      ". Please shorten it or split it into two messages."
    );
  }

  function updateSendButton() {
    sendButton.disabled = sending || overLimit;
  }

  function updateLength() {
    var n = charCount(textarea.value);
    var wasOver = overLimit;
    overLimit = n > maxChars;
    if (countLine) {
      countLine.hidden = n < nearChars;
      countLine.textContent = formatCount(n) + " / " + formatCount(maxChars) + " characters";
      countLine.classList.toggle("char-count-over", overLimit);
    }
    if (overLimit) {
      textarea.setAttribute("aria-invalid", "true");
    } else {
      textarea.removeAttribute("aria-invalid");
    }
    if (limitNotice) {
      window.clearTimeout(noticeTimer);
      if (!overLimit) {
        limitNotice.textContent = "";
      } else if (!wasOver) {
        limitNotice.textContent = limitMessage(n); // crossing the limit: say so at once
      } else {
        // Still over while typing: update the live notice once the typing pauses, not on
        // every keystroke.
        noticeTimer = window.setTimeout(function () {
          limitNotice.textContent = limitMessage(charCount(textarea.value));
        }, 400);
      }
    }
    updateSendButton();
  }

  // --- Suggested replies under the latest reply ---

  function suggestionButtons() {
    return suggestionGroup ? suggestionGroup.querySelectorAll("button.suggested-reply") : [];
  }

  function showSuggestions(suggestions) {
    if (!suggestionForm || !suggestionGroup) {
      return 0;
    }
    while (suggestionGroup.firstChild) {
      suggestionGroup.removeChild(suggestionGroup.firstChild);
    }
    var shown = 0;
    (Array.isArray(suggestions) ? suggestions : []).forEach(function (text) {
      if (typeof text !== "string" || !text.trim()) {
        return;
      }
      var button = document.createElement("button");
      button.type = "submit";
      button.name = "text";
      button.value = text;
      button.className = "suggested-reply secondary";
      button.textContent = text;
      suggestionGroup.appendChild(button);
      shown += 1;
    });
    suggestionForm.hidden = shown === 0;
    return shown;
  }

  function setSuggestionsBusy(busy) {
    if (!suggestionForm) {
      return;
    }
    // While a message is on its way its bubble sits under the latest reply: the buttons step
    // aside, and come back if the send fails.
    suggestionForm.classList.toggle("suggested-replies-busy", busy);
    Array.prototype.forEach.call(suggestionButtons(), function (button) {
      button.disabled = busy;
    });
  }

  function scrollToEnd() {
    var last = log.lastElementChild;
    if (last && last.scrollIntoView) {
      last.scrollIntoView({ block: "end" });
    }
  }

  // The same markup as templates/conversations/_resources.html: name and hours, how to reach
  // it, then large call / text / website buttons.
  function resourceList(resources) {
    var list = document.createElement("ul");
    list.className = "resources";
    list.setAttribute("data-testid", "resources");
    resources.forEach(function (r) {
      var item = document.createElement("li");
      item.className = "resource";
      var head = document.createElement("p");
      head.className = "resource-head";
      var name = document.createElement("strong");
      name.className = "resource-name";
      name.textContent = r.name;
      head.appendChild(name);
      if (r.hours) {
        var hours = document.createElement("span");
        hours.className = "resource-hours";
        hours.textContent = r.hours;
        head.appendChild(document.createTextNode(" "));
        head.appendChild(hours);
      }
      var contact = document.createElement("p");
      contact.className = "resource-contact";
      contact.textContent = r.contact;
      item.appendChild(head);
      item.appendChild(contact);
      var links = document.createElement("p");
      links.className = "resource-links";
      if (r.phone) {
        links.appendChild(action("tel:" + r.phone, "Call", r.phone, r.name, "resource-call"));
      }
      if (r.sms) {
        links.appendChild(action("sms:" + r.sms, "Text", r.sms, r.name, "resource-text"));
      }
      if (r.url && /^https:\/\//.test(r.url)) {
        var site = action(r.url, "Website", "", "", "resource-site");
        site.target = "_blank";
        site.rel = "noopener noreferrer";
        var hidden = document.createElement("span");
        hidden.className = "sr-only";
        hidden.textContent = " of " + r.name + " (opens in a new tab)";
        site.appendChild(hidden);
        links.appendChild(site);
      }
      item.appendChild(links);
      list.appendChild(item);
    });
    return list;
  }

  function action(href, verb, number, name, kind) {
    var a = document.createElement("a");
    a.href = href;
    a.className = "resource-action " + kind;
    a.appendChild(document.createTextNode(verb));
    if (number) {
      var hidden = document.createElement("span");
      hidden.className = "sr-only";
      hidden.textContent = " " + name + " on";
      a.appendChild(hidden);
      a.appendChild(document.createTextNode(" " + number));
    }
    return a;
  }

  function bubble(role, text, options) {
    options = options || {};
    var item = document.createElement("li");
    item.className = "msg msg-" + role + (options.emergency ? " msg-emergency" : "");
    item.setAttribute("data-testid", "message-" + role);
    if (options.id) {
      item.id = "m-" + options.id;
    }
    if (options.emergency) {
      item.setAttribute("data-emergency", "true");
      item.tabIndex = -1;
    }
    var author = document.createElement("span");
    author.className = "msg-author";
    author.textContent = role === "user" ? "You" : "Ari";
    var hidden = document.createElement("span");
    hidden.className = "sr-only";
    hidden.textContent = " said:";
    author.appendChild(hidden);
    var body = document.createElement("p");
    body.className = "msg-text";
    body.textContent = text;
    item.appendChild(author);
    item.appendChild(body);
    if (options.resources && options.resources.length) {
      item.appendChild(resourceList(options.resources));
    }
    if (options.pending) {
      item.classList.add("msg-pending");
    }
    log.appendChild(item);
    scrollToEnd();
    return item;
  }

  function showCrisisPanel() {
    var firstTime = crisisPanel.hidden;
    crisisPanel.hidden = false;
    crisisPanel.classList.add("crisis-panel-attention");
    return firstTime;
  }

  function detailOf(data, status) {
    if (status === 401 || status === 403) {
      return (
        "You've been signed out, so this message wasn't sent. Sign in again and your message " +
        "will be waiting in the box."
      );
    }
    if (status === 429) {
      return "You're sending messages faster than Ari can answer. Please wait a moment and try again.";
    }
    if (status >= 500) {
      return "Something went wrong on our side. Please try again in a moment.";
    }
    var errors = data && data.errors;
    if (errors && Array.isArray(errors.text) && typeof errors.text[0] === "string") {
      return errors.text[0]; // the field's own message, without the "text: " prefix
    }
    if (data && typeof data.detail === "string") {
      return data.detail;
    }
    return "Something went wrong while sending. Please try again.";
  }

  function send(text, fromBox) {
    if (sending) {
      return;
    }
    text = text.trim();
    if (!text) {
      setError("Please write a message first.");
      textarea.focus();
      return;
    }
    if (charCount(text) > maxChars) {
      updateLength();
      textarea.focus();
      return;
    }
    if (unansweredText !== null && unansweredText !== text) {
      keyInput.value = newKey(); // a different message, not a retry of the unanswered one
    }
    unansweredText = text;
    setError("");
    sending = true;
    updateSendButton();
    setSuggestionsBusy(true);
    textarea.setAttribute("aria-busy", "true");
    var pending = bubble("user", text, { pending: true });
    statusLine.textContent = "Ari is writing\u2026";
    var accepted = false;

    function failed(message, status) {
      pending.remove();
      setSuggestionsBusy(false);
      var hint = fromBox && textarea.value.trim() ? " Your message is still in the box." : "";
      draftSave();
      setError(message + hint);
      var signedOut = status === 401 || status === 403;
      showSignIn(signedOut);
      // Offline or a server error: one button sends the same message again (same key).
      showRetry(!signedOut && (status === 0 || status === 429 || status >= 500) ? text : null);
      statusLine.textContent = "";
      if (signedOut && signInLink) {
        signInLink.focus();
      } else if (retryText !== null && retryButton) {
        retryButton.focus();
      } else {
        textarea.focus();
      }
    }

    fetch(apiUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfInput ? csrfInput.value : "",
        "Idempotency-Key": keyInput.value,
      },
      body: JSON.stringify({ text: text }),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            return { ok: response.ok, status: response.status, data: data };
          });
      })
      .then(function (result) {
        if (!result.ok || !result.data || !result.data.reply) {
          if (result.status === 422) {
            // This key already carried another message (its reply was lost on the way):
            // this one goes with a new key.
            keyInput.value = newKey();
            unansweredText = null;
          }
          failed(detailOf(result.data, result.status), result.status);
          return;
        }
        // The server has the message: only now does the draft leave the box.
        accepted = true;
        unansweredText = null;
        keyInput.value = newKey();
        if (textarea.value.trim() === text) {
          textarea.value = ""; // a suggested reply leaves an unrelated draft where it is
          draftSave();
        }
        updateLength();
        var data = result.data;
        pending.classList.remove("msg-pending");
        pending.id = "m-" + data.user_message.id;
        var reply = data.reply;
        var replyItem = bubble("assistant", reply.text, {
          id: reply.id,
          emergency: reply.emergency,
          resources: reply.resources,
        });
        var suggested = showSuggestions(reply.suggested_replies);
        if (stepLabel && data.session && data.session.flow_step_label) {
          stepLabel.textContent = data.session.flow_step_label;
        }
        var focusPanel = false;
        if (reply.emergency || (reply.resources && reply.resources.length)) {
          focusPanel = showCrisisPanel() && reply.emergency;
        }
        var status = "Ari replied.";
        if (focusPanel) {
          status += " Support you can reach right now is listed with the reply.";
        }
        if (suggested) {
          status += " Suggested replies are below the conversation.";
        }
        statusLine.textContent = status;
        if (focusPanel) {
          // Mobile first: Ari's words at the top of the screen, the call and text buttons
          // right under them, nothing to scroll to.
          replyItem.focus({ preventScroll: true });
          replyItem.scrollIntoView({ block: "start" });
        } else {
          textarea.focus();
        }
      })
      .catch(function () {
        if (accepted) {
          setError("Ari replied, but this page could not show it. Please reload the page.");
          return;
        }
        failed("Couldn't reach Ari. Check your connection and try again.", 0);
      })
      .then(function () {
        sending = false;
        updateSendButton();
        setSuggestionsBusy(false);
        textarea.removeAttribute("aria-busy");
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(textarea.value, true);
  });

  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(textarea.value, true);
    }
  });

  textarea.addEventListener("input", function () {
    updateLength();
    draftSave();
  });

  if (retryButton) {
    retryButton.addEventListener("click", function () {
      if (retryText !== null) {
        send(retryText, retryText === textarea.value.trim());
      }
    });
  }

  if (suggestionForm) {
    // Buttons rendered by the server (after a reload) and by showSuggestions alike.
    suggestionForm.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button.suggested-reply");
      if (!button) {
        return;
      }
      event.preventDefault();
      send(button.value, false);
    });
    suggestionForm.addEventListener("submit", function (event) {
      event.preventDefault();
    });
  }

  // "Somewhere else?" under the helplines opens the preferences at the country list.
  var regionLink = document.getElementById("crisis-region-change");
  var preferences = document.getElementById("preferences");
  var regionSelect = document.getElementById("pref-region");
  if (regionLink && preferences && regionSelect) {
    regionLink.addEventListener("click", function (event) {
      event.preventDefault();
      preferences.open = true;
      regionSelect.focus();
    });
  }

  draftRestore();
  updateLength();
  scrollToEnd();
})();
