/* Ari chat page: progressive enhancement.
 *
 * Without JavaScript the form posts to the server and the page reloads with the reply.
 * With it, messages go through the JSON API (/api/v1/sessions/<id>/messages/) and appear in
 * the conversation log (an ARIA live region) without a reload. A retried send reuses the same
 * Idempotency-Key, so a flaky connection never runs the same turn twice.
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
  var apiUrl = chat.getAttribute("data-api-url");
  var sending = false;

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function setError(message) {
    errorLine.textContent = message || "";
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
    if (data && typeof data.detail === "string") {
      return data.detail;
    }
    if (status === 401 || status === 403) {
      return "Your sign-in has expired. Please reload the page and log in again.";
    }
    return "Something went wrong while sending. Your message is still here; please try again.";
  }

  function send() {
    if (sending) {
      return;
    }
    var text = textarea.value.trim();
    if (!text) {
      setError("Please write a message first.");
      textarea.focus();
      return;
    }
    setError("");
    sending = true;
    sendButton.disabled = true;
    textarea.setAttribute("aria-busy", "true");
    var pending = bubble("user", text, { pending: true });
    statusLine.textContent = "Ari is writing\u2026";

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
          pending.remove();
          setError(detailOf(result.data, result.status));
          statusLine.textContent = "";
          textarea.focus();
          return;
        }
        var data = result.data;
        pending.classList.remove("msg-pending");
        pending.id = "m-" + data.user_message.id;
        var reply = data.reply;
        bubble("assistant", reply.text, {
          id: reply.id,
          emergency: reply.emergency,
          resources: reply.resources,
        });
        textarea.value = "";
        keyInput.value = newKey();
        if (stepLabel && data.session && data.session.flow_step_label) {
          stepLabel.textContent = data.session.flow_step_label;
        }
        var focusPanel = false;
        if (reply.emergency || (reply.resources && reply.resources.length)) {
          focusPanel = showCrisisPanel() && reply.emergency;
        }
        if (focusPanel) {
          statusLine.textContent = "Ari replied. Support you can reach right now is shown above.";
          crisisPanel.focus();
        } else {
          statusLine.textContent = "Ari replied.";
          textarea.focus();
        }
      })
      .catch(function () {
        pending.remove();
        setError("Couldn't reach Ari. Check your connection and try again; your message is still here.");
        statusLine.textContent = "";
        textarea.focus();
      })
      .then(function () {
        sending = false;
        sendButton.disabled = false;
        textarea.removeAttribute("aria-busy");
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });

  scrollToEnd();
})();
