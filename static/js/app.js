/* WhatsApp CRM: the little behaviour the pages need beyond htmx. A static file (no inline script)
   so that a strict Content Security Policy holds. Every page works without it, only less smoothly. */
(function () {
  "use strict";

  /* Times are rendered in the browser's zone: tell the server which one it is (crm/timezones.py). */
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: times stay in UTC */ }

  function nearBottom(box) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  }

  /* Scroll a box to its end and remember where that put it: the scroll event this causes arrives a frame
     later, when a late image may have made the box taller, and must not read as the reader scrolling up. */
  function pinToEnd(box) {
    box.scrollTop = box.scrollHeight;
    box.setAttribute("data-pinned-top", String(box.scrollTop));
  }
  window.crmPinToEnd = pinToEnd;

  function scrollToEnd() {
    var box = document.getElementById("thread-scroll");
    if (box) { pinToEnd(box); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollToEnd();

    /* The agent switcher changes agent as soon as another one is picked. */
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
  });

  /* Forms that destroy something ask first. */
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  /* Polls skip while the tab is hidden; the next one after it shows again catches up. The open
     conversation says whether the agent is looking: only then do new messages count as read. */
  document.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.triggerEvent;
    if (document.hidden && trigger && trigger.type === "every") { event.preventDefault(); }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id === "thread-tail") {
      event.detail.parameters.seen = document.visibilityState === "visible" ? "1" : "0";
    }
  });

  /* Keep the reader's place: follow new messages only when already at the end, and keep the
     view still when older messages are put above it. */
  var keep = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = document.getElementById("thread-scroll");
    if (!box || !box.contains(event.detail.target)) { keep = null; return; }
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    keep = {
      older: Boolean(source && source.closest && source.closest(".older-loader")),
      atEnd: nearBottom(box),
      fromEnd: box.scrollHeight - box.scrollTop
    };
  });
  document.addEventListener("htmx:afterSettle", function () {
    var box = document.getElementById("thread-scroll");
    if (!box || !keep) { return; }
    if (keep.older) {
      box.scrollTop = box.scrollHeight - keep.fromEnd;
    } else if (keep.atEnd) {
      pinToEnd(box);
    }
    keep = null;
  });
  window.crmScrollToEnd = scrollToEnd;
})();

/* The composer: Enter sends, "/" offers quick replies, the attachment shows its name, the window
   counts down. Everything here is a convenience over a plain form that works without it. */
(function () {
  "use strict";

  var quickReplies = null;
  function loadQuickReplies() {
    if (quickReplies === null) {
      var data = document.getElementById("quick-replies");
      try { quickReplies = data ? JSON.parse(data.textContent) : []; } catch (e) { quickReplies = []; }
    }
    return quickReplies;
  }

  /* The "/shortcut" being typed just before the caret, or null. */
  function slashWord(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = /(^|\s)\/([\w-]*)$/.exec(before);
    return match ? { query: match[2].toLowerCase(), start: before.length - match[2].length - 1 } : null;
  }

  function menuOf(textarea) { return document.getElementById(textarea.getAttribute("aria-controls")); }

  function closeMenu(textarea) {
    var menu = menuOf(textarea);
    if (!menu) { return; }
    menu.hidden = true;
    menu.innerHTML = "";
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  }

  function choose(textarea, option) {
    var word = slashWord(textarea);
    var firstName = textarea.getAttribute("data-first-name") || "";
    var text = option.getAttribute("data-text").replace(/\{name\}/g, firstName);
    var start = word ? word.start : textarea.selectionStart;
    var end = textarea.selectionStart;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    textarea.selectionStart = textarea.selectionEnd = start + text.length;
    closeMenu(textarea);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function openMenu(textarea, word) {
    var menu = menuOf(textarea);
    var matches = loadQuickReplies().filter(function (reply) { return reply.shortcut.indexOf(word.query) === 0; });
    if (!menu || !matches.length) { closeMenu(textarea); return; }
    menu.innerHTML = "";
    matches.slice(0, 8).forEach(function (reply, index) {
      var option = document.createElement("li");
      option.id = "quick-reply-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("data-text", reply.text);
      option.setAttribute("aria-selected", index === 0 ? "true" : "false");
      var shortcut = document.createElement("strong");
      shortcut.textContent = "/" + reply.shortcut;
      var text = document.createElement("span");
      text.textContent = reply.text;
      option.appendChild(shortcut);
      option.appendChild(text);
      option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(textarea, option); });
      menu.appendChild(option);
    });
    menu.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    textarea.setAttribute("aria-activedescendant", "quick-reply-0");
  }

  function moveSelection(textarea, step) {
    var options = Array.prototype.slice.call(menuOf(textarea).querySelectorAll("[role=option]"));
    var current = options.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    var next = (current + step + options.length) % options.length;
    options.forEach(function (o, i) { o.setAttribute("aria-selected", i === next ? "true" : "false"); });
    textarea.setAttribute("aria-activedescendant", options[next].id);
    options[next].scrollIntoView({ block: "nearest" });
  }

  function grow(textarea) {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight, 180) + "px";
  }

  /* While the seller types, the customer sees WhatsApp's typing indicator: the server is told at most
     once per 25 seconds (Meta shows the indicator that long), and throttles again per conversation. */
  var lastTyping = 0;
  function noteTyping(textarea) {
    var url = textarea.getAttribute("data-typing-url");
    var now = Date.now();
    if (!url || !textarea.value.trim() || now - lastTyping < 25000) { return; }
    lastTyping = now;
    var token = textarea.form.querySelector("input[name=csrfmiddlewaretoken]");
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token ? token.value : "" } })
      .catch(function () { lastTyping = 0; });
  }

  document.addEventListener("input", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches("textarea[data-composer]")) { return; }
    grow(textarea);
    noteTyping(textarea);
    var word = slashWord(textarea);
    if (word) { openMenu(textarea, word); } else { closeMenu(textarea); }
  });

  document.addEventListener("keydown", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches("textarea[data-composer]")) { return; }
    var menu = menuOf(textarea);
    if (menu && !menu.hidden) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        moveSelection(textarea, event.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(textarea, menu.querySelector("[aria-selected=true]"));
        return;
      }
      if (event.key === "Escape") { event.preventDefault(); closeMenu(textarea); return; }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      textarea.form.requestSubmit();
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-composer]")) { closeMenu(event.target); }
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-attachment]")) { return; }
    var label = input.form.querySelector("[data-attachment-name]");
    if (!label) { return; }
    label.hidden = !input.files.length;
    label.textContent = input.files.length ? "📎 " + input.files[0].name + " — the text becomes its caption" : "";
  });

  /* The time left in the 24-hour window, kept current while the page stays open. */
  function tick() {
    document.querySelectorAll("[data-window-closes]").forEach(function (element) {
      var left = Math.floor((new Date(element.getAttribute("data-window-closes")) - new Date()) / 60000);
      if (left <= 0) { element.textContent = "no time"; return; }
      var hours = Math.floor(left / 60);
      element.textContent = hours ? hours + " h " + (left % 60) + " min" : left + " min";
    });
  }
  setInterval(tick, 30000);

  /* After a send the composer comes back empty (swapped out of band): keep typing in it, and
     show the message just sent. */
  var hadFocus = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    hadFocus = Boolean(event.detail.elt.closest && event.detail.elt.closest("#composer") &&
                       document.activeElement && document.activeElement.matches("textarea[data-composer]"));
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var textarea = document.querySelector("textarea[data-composer]");
    if (hadFocus && textarea) { textarea.focus(); }
    if (event.detail.requestConfig && event.detail.requestConfig.elt &&
        event.detail.requestConfig.elt.closest && event.detail.requestConfig.elt.closest("#composer")) {
      hadFocus = false;
      if (window.crmScrollToEnd) { window.crmScrollToEnd(); }
    }
  });

  document.documentElement.classList.add("js");
})();
