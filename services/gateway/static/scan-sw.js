// The scanner page's service worker: the network first (pages must never mix versions), and the
// last copy kept of the page, its scripts and decoders when there is none. GraphQL is never cached.
const CACHE = "linli-scan-v1";
const SHELL = [
  "/scan", "/static/scan.js", "/static/common.js", "/static/door-search.js", "/static/scan-withdraw.js",
  "/static/offline-door.js", "/static/linli.css", "/static/station.css", "/static/favicon.svg",
  "/static/scan.webmanifest", "/vendor/jsqr.js", "/vendor/ed25519.js",
];

self.addEventListener("install", (event) => {
  // one missing file (a decoder not installed) must not keep the rest out of the cache
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(SHELL.map((url) => cache.add(url).catch(() => null))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  }).catch(() => caches.match(url.pathname).then((found) => found ?? Response.error())));
});
