/* WhatsApp CRM: alerts and live updates. Every page of an agent asks the server, often and cheaply, whether
   anything changed (alerts/live.py answers 204 while nothing did); when something did, the page's live parts
   reload at once, the tab's title and favicon show the unread conversations, and a new customer message
   makes a sound (if the seller turned it on) and a notification (if they allowed them). The settings page
   turns Web Push on for this browser. A static file: the CSP allows no inline script. */
(function () {
  "use strict";

  var body = document.body;
  var LIVE_URL = body && body.getAttribute("data-live-url");
  var SOUND_KEY = "crm.alerts.sound";
  var OFFER_KEY = "crm.alerts.offer-dismissed";
  var NOTIFIED_KEY = "crm.alerts.notified.";

  function stored(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ } }

  /* --- The tab: "(3) Inbox · Shop" and a badge on the favicon. ------------------------------------------ */

  var baseTitle = document.title.replace(/^\(\d+\+?\) /, "");

  function showUnread(count) {
    document.title = (count > 0 ? "(" + count + ") " : "") + baseTitle;
    var link = document.getElementById("favicon");
    if (!link) { return; }
    var badges = (body.getAttribute("data-favicon-badges") || "").split(" ");
    var href = count > 0 ? badges[Math.min(count, badges.length) - 1] : body.getAttribute("data-favicon");
    if (href && link.getAttribute("href") !== href) {
      /* A new element, not a new href: some browsers only notice a favicon that is added. */
      var fresh = link.cloneNode();
      fresh.setAttribute("href", href);
      link.parentNode.replaceChild(fresh, link);
    }
  }

  /* --- Sound: a short two-note chime made in the page, off until the seller turns it on. ----------------- */

  var audio = null;
  function soundOn() { return stored(SOUND_KEY) === "on"; }
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { audio = new Context(); }
    return audio;
  }
  /* Browsers let a page play sound only after a click or a key: wake the context on the first one. */
  ["click", "keydown"].forEach(function (type) {
    document.addEventListener(type, function () {
      if (soundOn() && audioContext() && audio.state === "suspended") { audio.resume(); }
    }, { once: true, capture: true });
  });
  function chime() {
    var context = audioContext();
    if (!context) { return; }
    [[880, 0], [1320, 0.12]].forEach(function (note) {
      var oscillator = context.createOscillator(), gain = context.createGain(), at = context.currentTime + note[1];
      oscillator.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.3);
    });
    body.setAttribute("data-chimed", String(Number(body.getAttribute("data-chimed") || 0) + 1));
  }

  /* --- Notifications while a page is open. ------------------------------------------------------------- */

  function notificationsAllowed() { return "Notification" in window && Notification.permission === "granted"; }

  /* One tab alerts for a message, not every open one: the first to claim its id in localStorage. */
  function claim(id) {
    var key = NOTIFIED_KEY + (body.getAttribute("data-live-agent") || "");
    if (Number(stored(key) || 0) >= id) { return false; }
    store(key, String(id));
    return true;
  }

  function lookingAt(url) {
    return document.visibilityState === "visible" && window.location.pathname === url;
  }

  function notify(message) {
    if (!notificationsAllowed() || lookingAt(message.url)) { return; }
    var notification = new Notification(message.title, {
      body: message.body, tag: message.tag, icon: body.getAttribute("data-favicon")
    });
    notification.onclick = function () {
      window.focus();
      notification.close();
      window.location.assign(message.url);
    };
  }

  function alertFor(messages) {
    var fresh = messages.filter(function (message) { return claim(message.id); });
    if (!fresh.length) { return; }
    fresh.slice().reverse().forEach(notify);
    if (soundOn()) { chime(); }
  }

  /* --- Asking for permission: only when the seller clicks "Turn on notifications". --------------------- */

  function showPermission() {
    var state = "Notification" in window ? Notification.permission : "unsupported";
    document.querySelectorAll("[data-notification-state]").forEach(function (element) {
      element.hidden = element.getAttribute("data-notification-state") !== state;
    });
    var offer = document.getElementById("alert-offer");
    /* The Alerts page has its own button: no offer above it. */
    var onAlertsPage = document.querySelector("[data-notification-state]") !== null;
    if (offer) { offer.hidden = state !== "default" || stored(OFFER_KEY) === "yes" || onAlertsPage; }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("button");
    if (!target) { return; }
    if (target.hasAttribute("data-turn-on-notifications") && "Notification" in window) {
      Promise.resolve(Notification.requestPermission()).then(showPermission);
    } else if (target.hasAttribute("data-dismiss-alert-offer")) {
      store(OFFER_KEY, "yes");
      showPermission();
    } else if (target.hasAttribute("data-push-on")) {
      turnPushOn(target);
    } else if (target.hasAttribute("data-push-off")) {
      turnPushOff(target);
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.id === "alert-sound") {
      store(SOUND_KEY, event.target.checked ? "on" : "off");
      if (event.target.checked && audioContext()) { audio.resume(); chime(); }
    }
  });

  /* --- Web Push with the tab closed: the service worker and this browser's subscription. --------------- */

  var registration = null;
  function serviceWorker() {
    if (!("serviceWorker" in navigator)) { return Promise.reject(new Error("no service worker")); }
    if (!registration) { registration = navigator.serviceWorker.register("/service-worker.js", { scope: "/" }); }
    return registration;
  }

  function pushPanel() { return document.getElementById("push-panel"); }

  function say(text) {
    var status = document.getElementById("push-status");
    if (status) { status.textContent = text; }
  }

  function keyBytes(base64url) {
    var text = window.atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); });
  }

  function post(url, fields) {
    var form = new FormData();
    Object.keys(fields).forEach(function (name) { form.append(name, fields[name]); });
    var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    return fetch(url, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) { throw new Error(answer.error || "The server refused (" + response.status + ")."); }
        return answer;
      });
    });
  }

  function showPush(subscribed) {
    var panel = pushPanel();
    if (!panel) { return; }
    panel.querySelector("[data-push-on]").hidden = subscribed;
    panel.querySelector("[data-push-off]").hidden = !subscribed;
    say(subscribed ? "This browser receives notifications with the tab closed." :
      "This browser receives no notifications while the tab is closed.");
  }

  function turnPushOn(button) {
    var panel = pushPanel();
    button.disabled = true;
    Promise.resolve(Notification.requestPermission()).then(function (permission) {
      showPermission();
      if (permission !== "granted") { throw new Error("Notifications are blocked for this site in your browser's settings."); }
      return serviceWorker();
    }).then(function () { return navigator.serviceWorker.ready; }).then(function (ready) {
      return ready.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(panel.getAttribute("data-push-key"))
      });
    }).then(function (subscription) {
      var json = subscription.toJSON();
      return post(panel.getAttribute("data-subscribe-url"), {
        endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth
      });
    }).then(function () { showPush(true); }, function (error) { say(error.message); })
      .then(function () { button.disabled = false; });
  }

  function turnPushOff(button) {
    var panel = pushPanel();
    button.disabled = true;
    serviceWorker().then(function () { return navigator.serviceWorker.ready; }).then(function (ready) {
      return ready.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) { return null; }
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return post(panel.getAttribute("data-unsubscribe-url"), { endpoint: endpoint }).catch(function () { return null; });
      });
    }).then(function () { showPush(false); }, function (error) { say(error.message); })
      .then(function () { button.disabled = false; });
  }

  function setUpPushPanel() {
    var panel = pushPanel();
    if (!panel) { return; }
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      say("This browser cannot receive notifications with the tab closed.");
      return;
    }
    serviceWorker().then(function () { return navigator.serviceWorker.ready; })
      .then(function (ready) { return ready.pushManager.getSubscription(); })
      .then(function (subscription) { showPush(Boolean(subscription)); }, function () { showPush(false); });
  }

  /* --- The live loop. ---------------------------------------------------------------------------------- */

  var CHECK_URL = body && body.getAttribute("data-live-check-url");
  var token = "", ticket = "", timer = null, busy = false, failures = 0, healthy = false, lastListReload = 0;

  function nextDelay() {
    var visible = Number(body.getAttribute("data-live-ms")) || 700;
    var hidden = Number(body.getAttribute("data-live-hidden-ms")) || 5000;
    if (failures) { return Math.min(60000, hidden * Math.pow(2, failures - 1)); }
    return document.hidden ? hidden : visible;
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, delay);
  }

  /* The page's live parts (inbox list, open thread, an order's messages) reload now. */
  function reloadLiveParts() {
    if (!window.htmx) { return; }
    document.querySelectorAll("[hx-trigger*='live-change']").forEach(function (element) {
      window.htmx.trigger(element, "live-change");
    });
  }

  function apply(answer, reloaded) {
    var first = token === "", moved = answer.token !== token;
    token = answer.token;
    ticket = answer.ticket;
    body.setAttribute("data-live-token", token);
    showUnread(answer.unread);
    if (!first && moved) {
      if (!reloaded) { reloadLiveParts(); }
      alertFor(answer.messages || []);
    }
  }

  function get(url) {
    return fetch(url, {
      credentials: "same-origin", cache: "no-store", redirect: "error", headers: { Accept: "application/json" }
    });
  }

  /* The logged-in question: the state, the messages since our token, and a fresh ticket. */
  function askInFull(reloaded) {
    return get(LIVE_URL + "?since=" + encodeURIComponent(token)).then(function (response) {
      if (!response.ok) { throw new Error("live update " + response.status); }
      return response.json();
    }).then(function (answer) { apply(answer, reloaded); });
  }

  /* The cheap question, every 700 ms: 204 while nothing changed. When something did, the live parts
     reload at once, beside the full question (the title, the notifications). */
  function check() {
    var url = CHECK_URL + "?ticket=" + encodeURIComponent(ticket) + "&since=" + encodeURIComponent(token);
    return get(url).then(function (response) {
      if (response.status === 204) { return null; }
      if (response.status === 200) { reloadLiveParts(); return askInFull(true); }
      if (response.status === 403) { return askInFull(false); }
      throw new Error("live check " + response.status);
    });
  }

  function poll() {
    if (busy) { return; }
    busy = true;
    (ticket && CHECK_URL ? check() : askInFull()).then(function () {
      failures = 0;
      healthy = true;
    }, function () {
      failures += 1;
      healthy = false;
      if (failures > 2) { token = ""; ticket = ""; } /* start again from what the server says now */
    }).then(function () {
      busy = false;
      schedule(nextDelay());
    });
  }

  /* While the live loop works, the inbox list's own timer is a slow safety net (ticks of the last
     message): new messages reload it through the loop. */
  document.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.triggerEvent;
    if (healthy && event.detail.elt.id === "inbox-list" && trigger && trigger.type === "every" &&
        Date.now() - lastListReload < 30000) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt.id === "inbox-list") { lastListReload = Date.now(); }
  });

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && LIVE_URL) { schedule(0); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var sound = document.getElementById("alert-sound");
    if (sound) { sound.checked = soundOn(); }
    showPermission();
    setUpPushPanel();
    if (LIVE_URL) {
      lastListReload = Date.now();
      if ("serviceWorker" in navigator) { serviceWorker().catch(function () { return null; }); }
      poll();
    }
  });
})();
