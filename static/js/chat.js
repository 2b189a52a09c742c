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

  function setError(message) {
    errorLine.textContent = message || "";
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

  function resourceList(resources) {
    var list = document.createElement("ul");
    list.className = "resources";
    list.setAttribute("data-testid", "resources");
    resources.forEach(function (r) {
      var item = document.createElement("li");
      item.className = "resource";
      var name = document.createElement("strong");
      name.className = "resource-name";
      name.textContent = r.name;
      var contact = document.createElement("span");
      contact.className = "resource-contact";
      contact.textContent = r.contact;
      item.appendChild(name);
      item.appendChild(contact);
      if (r.hours) {
        var hours = document.createElement("span");
        hours.className = "resource-hours";
        hours.textContent = " (" + r.hours + ")";
        item.appendChild(hours);
      }
      var links = document.createElement("span");
      links.className = "resource-links";
      if (r.phone) {
        links.appendChild(link("tel:" + r.phone, "Call " + r.phone));
      }
      if (r.sms) {
        links.appendChild(link("sms:" + r.sms, "Text " + r.sms));
      }
      if (r.url && /^https?:\/\//.test(r.url)) {
        var site = link(r.url, "Website");
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

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
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
      return "Your sign-in has expired. Please reload the page and log in again.";
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

    function failed(message) {
      pending.remove();
      setSuggestionsBusy(false);
      var hint = fromBox && textarea.value.trim() ? " Your message is still in the box." : "";
      setError(message + hint);
      statusLine.textContent = "";
      textarea.focus();
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
          failed(detailOf(result.data, result.status));
          return;
        }
        // The server has the message: only now does the draft leave the box.
        accepted = true;
        unansweredText = null;
        keyInput.value = newKey();
        if (textarea.value.trim() === text) {
          textarea.value = ""; // a suggested reply leaves an unrelated draft where it is
        }
        updateLength();
        var data = result.data;
        pending.classList.remove("msg-pending");
        pending.id = "m-" + data.user_message.id;
        var reply = data.reply;
        bubble("assistant", reply.text, {
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
          status += " Support you can reach right now is shown above.";
        }
        if (suggested) {
          status += " Suggested replies are below the conversation.";
        }
        statusLine.textContent = status;
        if (focusPanel) {
          crisisPanel.focus();
        } else {
          textarea.focus();
        }
      })
      .catch(function () {
        if (accepted) {
          setError("Ari replied, but this page could not show it. Please reload the page.");
          return;
        }
        failed("Couldn't reach Ari. Check your connection and try again.");
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

  textarea.addEventListener("input", updateLength);

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

  updateLength();
  scrollToEnd();
})();
