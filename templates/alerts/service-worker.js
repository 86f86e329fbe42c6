{% load static %}/* WhatsApp CRM's service worker (served from /service-worker.js, so its scope is the whole site): it shows
   the Web Push notifications that arrive while no page is open, and opens the conversation a notification
   is about when it is clicked. It caches nothing: every page comes from the server, fresh. */
"use strict";

var ICON = "{% static 'img/icon-192.png' %}";
var INBOX = "/inbox/";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

/* A push (alerts/push.py: title, body, url, tag): one notification per conversation, the newest kept. */
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  event.waitUntil(self.registration.showNotification(data.title || "New message", {
    body: data.body || "",
    tag: data.tag || "new-message",
    renotify: true,
    icon: ICON,
    badge: ICON,
    data: { url: data.url || INBOX }
  }));
});

/* A click opens the conversation: in a tab already showing it, else in the app's window, else a new one. */
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || INBOX, self.location.origin);
  if (target.origin !== self.location.origin) { target = new URL(INBOX, self.location.origin); }
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    var same = windows.filter(function (client) { return client.url === target.href; })[0];
    if (same) { return same.focus(); }
    var any = windows.filter(function (client) { return "navigate" in client; })[0];
    if (any) {
      return any.navigate(target.href).then(function (client) { return (client || any).focus(); })
        .catch(function () { return self.clients.openWindow(target.href); });
    }
    return self.clients.openWindow(target.href);
  }));
});
