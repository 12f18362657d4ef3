/* Service worker of the offline verifier (/verify/scan/), served by guarantees.web.views.offline. It keeps the page
   and its files (cache first for the files, network first for the page), and the last keys and status list
   (network first, the cached copy when there is no network). Everything comes from this site. */
"use strict";
var CONFIG = {{ config|safe }};
var CACHE = "caution-unique-verifier-" + CONFIG.version;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(CONFIG.shell.concat([CONFIG.keys, CONFIG.list]));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("caution-unique-verifier-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (cached) { return cached || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var path = url.pathname;
  if (path === CONFIG.keys || path === CONFIG.list) {
    event.respondWith(networkFirst(request, path));
  } else if (request.mode === "navigate" && path === CONFIG.shell[0]) {
    event.respondWith(networkFirst(request, CONFIG.shell[0]));
  } else if (CONFIG.shell.indexOf(path) >= 0) {
    event.respondWith(caches.match(path).then(function (cached) { return cached || fetch(request); }));
  }
});
