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

  function scrollToEnd() {
    var box = document.getElementById("thread-scroll");
    if (box) { box.scrollTop = box.scrollHeight; }
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
      box.scrollTop = box.scrollHeight;
    }
    keep = null;
  });
  window.crmScrollToEnd = scrollToEnd;
})();
