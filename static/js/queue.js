/* The inbox as a work queue: replying to a message, keyboard shortcuts, ticking every customer, and keeping a
   thread with images at its end. A static file (no inline script, for the CSP); pages work without it. */
(function () {
  "use strict";

  /* Reply: a bubble's Reply button quotes the message above the composer; the send carries its id. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-reply-to]");
    var form = document.getElementById("compose-form");
    if (button && form) {
      form.querySelector("[data-reply-input]").value = button.getAttribute("data-reply-to");
      var preview = form.querySelector("[data-reply-preview]");
      preview.querySelector("[data-reply-author]").textContent = button.getAttribute("data-reply-author");
      preview.querySelector("[data-reply-text]").textContent = button.getAttribute("data-reply-text");
      preview.hidden = false;
      form.querySelector("textarea[data-composer]").focus();
      return;
    }
    var cancel = event.target.closest && event.target.closest("[data-reply-cancel]");
    if (cancel && form) {
      form.querySelector("[data-reply-input]").value = "";
      form.querySelector("[data-reply-preview]").hidden = true;
    }
  });

  /* The customers list: one box ticks every customer on the page. */
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("[data-tick-all]")) { return; }
    all.form.querySelectorAll("input[name='" + all.getAttribute("data-tick-all") + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  /* A thread opens at its last message even when its images load after the first scroll. */
  document.addEventListener("load", function (event) {
    var image = event.target;
    if (image.tagName !== "IMG") { return; }
    ["thread-scroll", "chat"].forEach(function (id) {
      var box = document.getElementById(id);
      if (box && box.contains(image) && box.getAttribute("data-at-end") !== "0") { window.crmPinToEnd(box); }
    });
  }, true);
  /* Whether the reader is at the end: only then does a late image or a new message move the view. A box
     still where the last automatic scroll put it is at its end, however much taller it has grown since. */
  document.addEventListener("scroll", function (event) {
    var box = event.target;
    if (box.id !== "thread-scroll" && box.id !== "chat") { return; }
    var pinned = box.getAttribute("data-pinned-top");
    if (pinned !== null && box.scrollTop >= Number(pinned) - 2) {
      box.setAttribute("data-at-end", "1");
      return;
    }
    box.removeAttribute("data-pinned-top");
    box.setAttribute("data-at-end", box.scrollHeight - box.scrollTop - box.clientHeight < 120 ? "1" : "0");
  }, true);

  /* The header's Menu button (phones) opens and closes the navigation. */
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-menu-toggle]");
    if (!toggle) { return; }
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = !menu.classList.contains("open");
    menu.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  /* The sandbox's chat shows its newest message: on load, after a send, and when a poll brings more. */
  function chatToEnd() {
    var chat = document.getElementById("chat");
    if (chat && chat.getAttribute("data-at-end") !== "0") { window.crmPinToEnd(chat); }
  }
  document.addEventListener("DOMContentLoaded", chatToEnd);
  document.addEventListener("htmx:afterSettle", chatToEnd);

  /* Keyboard shortcuts: j / k next and previous conversation, e mark done, ? this help. Never while typing. */
  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function go(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll(".conversation-list .conversation-row > a"));
    if (!rows.length) { return; }
    var current = rows.findIndex(function (row) { return row.getAttribute("aria-current") === "page"; });
    var next = current === -1 ? (step > 0 ? 0 : rows.length - 1) : current + step;
    if (next >= 0 && next < rows.length) { window.location.assign(rows[next].href); }
  }

  function toggleHelp(show) {
    var help = document.getElementById("shortcut-help");
    if (!help) { return; }
    help.hidden = show === undefined ? !help.hidden : !show;
    if (!help.hidden) { help.querySelector("button").focus(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "j") { go(1); }
    else if (event.key === "k") { go(-1); }
    else if (event.key === "e") {
      var done = document.querySelector("form[data-shortcut-form='done']");
      if (!done) { return; }
      done.requestSubmit();
    }
    else if (event.key === "?") { toggleHelp(); }
    else if (event.key === "Escape") { toggleHelp(false); return; }
    else { return; }
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcut-help-toggle]")) { toggleHelp(); }
  });
})();
