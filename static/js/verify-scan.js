/* The offline verifier of /verify/scan/: reads an attestation's QR payload (CU1: + Base45(zlib(COSE_Sign1))),
   checks its ES256 signature with WebCrypto against the registry's cached keys, and its status against the cached
   signed status list (W3C Bitstring Status List model, 4 bits a version). Formats: README, "Offline verification".
   Works with no network once the page, its files, the keys and a list were fetched (the service worker keeps the
   files; the keys and the list are kept in localStorage too). Every word shown comes from the page (translated). */
(function () {
  "use strict";

  var root = document.getElementById("verifier");
  if (!root) { return; }
  var M = JSON.parse(document.getElementById("verifier-messages").textContent);
  var PREFIX = "CU1:";
  var STATUS_NAMES = ["valid", "suspended", "superseded", "expired", "cancelled", "closed", "not_yet_valid"];
  var STORE_KEYS = "caution-unique.offline.keys";
  var STORE_LIST = "caution-unique.offline.status-list";

  function $(selector) { return root.querySelector(selector); }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) { return String(values[name]); });
  }

  /* --- Encodings ------------------------------------------------------------------------------------------ */
  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  function base45Decode(text) {
    var out = [];
    for (var i = 0; i < text.length; i += 3) {
      var chunk = text.slice(i, i + 3), n = 0;
      for (var j = chunk.length - 1; j >= 0; j--) {
        var d = B45.indexOf(chunk[j]);
        if (d < 0) { throw new Error("malformed"); }
        n = n * 45 + d;
      }
      if (chunk.length === 3) {
        if (n > 0xffff) { throw new Error("malformed"); }
        out.push(n >> 8, n & 0xff);
      } else if (chunk.length === 2) {
        if (n > 0xff) { throw new Error("malformed"); }
        out.push(n);
      } else { throw new Error("malformed"); }
    }
    return new Uint8Array(out);
  }
  function base64Decode(text) {
    var bin = atob(text.replace(/-/g, "+").replace(/_/g, "/")), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function base64Encode(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s);
  }
  function inflate(bytes) {
    if (typeof DecompressionStream === "undefined") { return Promise.reject(new Error("unsupported")); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); },
      function () { throw new Error("malformed"); });
  }

  /* A small CBOR decoder (RFC 8949): what COSE and the claims use. Maps become Map (integer and text keys). */
  function cborDecode(bytes) {
    var pos = 0, view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    function need(n) { if (pos + n > bytes.length) { throw new Error("malformed"); } }
    function length(info) {
      if (info < 24) { return info; }
      var size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
      if (!size) { throw new Error("malformed"); }
      need(size);
      var v = 0;
      for (var i = 0; i < size; i++) { v = v * 256 + bytes[pos + i]; }
      pos += size;
      return v;
    }
    function item() {
      need(1);
      var first = bytes[pos++], major = first >> 5, info = first & 31, n, i, out;
      if (major === 7) {
        if (info === 20) { return false; }
        if (info === 21) { return true; }
        if (info === 22 || info === 23) { return null; }
        if (info === 25) { need(2); pos += 2; return view.getUint16(pos - 2); }
        if (info === 26) { need(4); pos += 4; return view.getFloat32(pos - 4); }
        if (info === 27) { need(8); pos += 8; return view.getFloat64(pos - 8); }
        throw new Error("malformed");
      }
      n = length(info);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: need(n); pos += n; return bytes.slice(pos - n, pos);
        case 3: need(n); pos += n; return new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(pos - n, pos));
        case 4: out = []; for (i = 0; i < n; i++) { out.push(item()); } return out;
        case 5: out = new Map(); for (i = 0; i < n; i++) { var k = item(); out.set(k, item()); } return out;
        case 6: return { tag: n, value: item() };
        default: throw new Error("malformed");
      }
    }
    var value = item();
    if (pos !== bytes.length) { throw new Error("malformed"); }
    return value;
  }
  function cborHead(major, n) {
    if (n < 24) { return [(major << 5) | n]; }
    if (n < 256) { return [(major << 5) | 24, n]; }
    if (n < 65536) { return [(major << 5) | 25, n >> 8, n & 0xff]; }
    return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  }
  function concat(parts) {
    var size = 0, i;
    for (i = 0; i < parts.length; i++) { size += parts[i].length; }
    var out = new Uint8Array(size), at = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], at); at += parts[i].length; }
    return out;
  }
  /* Sig_structure = ["Signature1", protected, h'', payload] (RFC 9052 §4.4). */
  function sigStructure(prot, payload) {
    var context = new TextEncoder().encode("Signature1");
    return concat([new Uint8Array([0x84]), new Uint8Array(cborHead(3, context.length)), context,
      new Uint8Array(cborHead(2, prot.length)), prot, new Uint8Array([0x40]),
      new Uint8Array(cborHead(2, payload.length)), payload]);
  }
  function parseSign1(bytes) {
    var obj = cborDecode(bytes);
    if (obj && obj.tag !== undefined) {
      if (obj.tag !== 18) { throw new Error("malformed"); }
      obj = obj.value;
    }
    if (!Array.isArray(obj) || obj.length !== 4 || !(obj[0] instanceof Uint8Array) ||
        !(obj[2] instanceof Uint8Array) || !(obj[3] instanceof Uint8Array)) { throw new Error("malformed"); }
    var header = obj[0].length ? cborDecode(obj[0]) : new Map();
    var kid = header.get(4) || (obj[1] instanceof Map ? obj[1].get(4) : null);
    if (!(kid instanceof Uint8Array)) { throw new Error("malformed"); }
    return { protected: obj[0], payload: obj[2], signature: obj[3], kid: base64Encode(kid), alg: header.get(1) };
  }

  /* --- Keys and signature ------------------------------------------------------------------------------- */
  var keys = [];   // [{kid, jwk fields, not_before, not_after, crypto: CryptoKey}]

  function importKeys(list) {
    if (!window.crypto || !crypto.subtle) { return Promise.reject(new Error("unsupported")); }
    return Promise.all(list.map(function (k) {
      return crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: k.x, y: k.y, ext: true },
        { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]).then(function (cryptoKey) {
        return Object.assign({}, k, { crypto: cryptoKey });
      });
    }));
  }
  function within(key, seconds) {
    var t = seconds * 1000;
    return (!key.not_before || t >= Date.parse(key.not_before)) && (!key.not_after || t <= Date.parse(key.not_after));
  }
  /* The claims of a verified COSE_Sign1, or an Error whose message is the reason code. */
  function verifySign1(sign1) {
    var key = keys.find(function (k) { return k.kid === sign1.kid; });
    if (!keys.length) { return Promise.reject(new Error("no_keys")); }
    if (!key) { return Promise.reject(new Error("unknown_key")); }
    if (sign1.alg !== -7 || sign1.signature.length !== 64) { return Promise.reject(new Error("bad_signature")); }
    return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key.crypto, sign1.signature,
      sigStructure(sign1.protected, sign1.payload)).then(function (ok) {
      if (!ok) { throw new Error("bad_signature"); }
      var claims = cborDecode(sign1.payload);
      if (!(claims instanceof Map) || typeof claims.get(6) !== "number") { throw new Error("malformed"); }
      if (!within(key, claims.get(6))) { throw new Error("key_not_valid_then"); }
      return { claims: claims, key: key };
    });
  }

  /* --- The status list --------------------------------------------------------------------------------- */
  var statusList = null;  // {issuedAt: Date, n, bits: Uint8Array (inflated)}

  function loadList(wrapper) {
    var sign1 = parseSign1(base64Decode(wrapper.cose));
    return verifySign1(sign1).then(function (verified) {
      var body = verified.claims.get("sl");
      if (!(body instanceof Map) || body.get("bits") !== 4) { throw new Error("malformed"); }
      return inflate(body.get("lst")).then(function (bits) {
        return { issuedAt: new Date(verified.claims.get(6) * 1000), n: body.get("n"), bits: bits };
      });
    });
  }
  function listEntry(index) {
    if (!statusList || typeof index !== "number" || index < 0 || index >= statusList.n) { return 0; }
    var byte = statusList.bits[index >> 1] || 0;
    return index % 2 === 0 ? (byte >> 4) & 15 : byte & 15;
  }

  /* --- Fetching, with the cached copies as the fall-back ----------------------------------------------- */
  function fetchJson(url) {
    var controller = typeof AbortController !== "undefined" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 6000) : null;
    return fetch(url, { cache: "no-cache", signal: controller ? controller.signal : undefined })
      .then(function (r) {
        if (timer) { clearTimeout(timer); }
        if (!r.ok) { throw new Error("http " + r.status); }
        return r.json();
      });
  }
  function stored(name) {
    try { return JSON.parse(localStorage.getItem(name) || "null"); } catch (e) { return null; }
  }
  function store(name, value) {
    try { localStorage.setItem(name, JSON.stringify(value)); } catch (e) { /* private mode: the SW cache remains */ }
  }
  function refresh() {
    var keysPromise = fetchJson(root.dataset.keysUrl).then(function (body) {
      store(STORE_KEYS, body.keys);
      return body.keys;
    }).catch(function () { return stored(STORE_KEYS) || []; });
    return keysPromise.then(importKeys).then(function (imported) {
      keys = imported;
      $("[data-testid=keys-info]").textContent = fill(M.keys_info, { count: keys.length });
      return fetchJson(root.dataset.listUrl).then(function (body) {
        return loadList(body).then(function (list) { store(STORE_LIST, body); return list; });
      }).catch(function () {
        var cached = stored(STORE_LIST);
        return cached ? loadList(cached).catch(function () { showListState("bad"); return null; }) : null;
      });
    }).then(function (list) {
      if (list) { statusList = list; }
      showListState();
    }).catch(function (error) {
      showListState(error && error.message === "unsupported" ? "unsupported" : null);
    });
  }

  function formatDate(date) {
    return date.toLocaleString(root.dataset.lang === "en" ? "en-GB" : "fr-FR",
      { dateStyle: "long", timeStyle: "short" });
  }
  function showListState(problem) {
    var el = $("[data-testid=list-age]");
    el.classList.remove("warn");
    if (problem === "bad") { el.textContent = M.list_bad; el.classList.add("warn"); return; }
    if (!statusList) { el.textContent = M.no_list; el.classList.add("warn"); return; }
    var hours = Math.max(0, Math.floor((Date.now() - statusList.issuedAt.getTime()) / 3600000));
    var text = fill(M.list_age, { when: formatDate(statusList.issuedAt), hours: hours });
    if (hours >= Number(root.dataset.warnHours)) {
      text += " " + fill(M.list_old, { hours: root.dataset.warnHours });
      el.classList.add("warn");
    }
    el.textContent = text;
    el.dataset.hours = String(hours);
  }

  /* --- Checking a payload ------------------------------------------------------------------------------ */
  function payloadFrom(text) {
    text = (text || "").trim();
    var hash = text.indexOf("#");
    if (hash >= 0) { text = decodeURIComponent(text.slice(hash + 1)); }
    if (text.toUpperCase().indexOf(PREFIX) !== 0) { throw new Error("not_a_payload"); }
    return text.slice(PREFIX.length).toUpperCase();
  }
  function check(text) {
    var parsed;
    return Promise.resolve().then(function () {
      return inflate(base45Decode(payloadFrom(text)));
    }).then(function (cose) {
      parsed = parseSign1(cose);
      return verifySign1(parsed);
    }).then(function (verified) {
      var g = verified.claims.get("cu");
      if (!(g instanceof Map)) { throw new Error("malformed"); }
      show({ ok: true, g: g, kid: verified.key.kid });
    }).catch(function (error) {
      var code = error && M.reasons[error.message] ? error.message : "malformed";
      show({ ok: false, reason: code });
    });
  }

  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }
  function formatDay(iso) {
    var parts = String(iso).split("-");
    return parts.length === 3 ? parts[2] + "/" + parts[1] + "/" + parts[0] : String(iso);
  }
  function formatAmount(amount, currency) {
    var n = new Intl.NumberFormat(root.dataset.lang === "en" ? "en-GB" : "fr-FR").format(amount);
    return n + " " + (currency === "XOF" ? "FCFA" : currency);
  }

  function show(result) {
    var section = $("[data-testid=scan-result]");
    var verdict = $("[data-testid=verdict]"), reason = $("[data-testid=reason]");
    var standingEl = $("[data-testid=offline-standing]"), details = $("[data-testid=details]");
    var live = $("[data-testid=live-standing]");
    section.hidden = false;
    details.textContent = "";
    standingEl.textContent = "";
    live.textContent = "";
    section.className = "scan-result " + (result.ok ? "good" : "bad");
    section.dataset.authentic = result.ok ? "true" : "false";
    verdict.textContent = result.ok ? M.authentic : M.not_authentic;
    if (!result.ok) {
      reason.textContent = M.reasons[result.reason];
      section.dataset.reason = result.reason;
      section.dataset.standing = "";
      section.scrollIntoView({ block: "start" });
      return;
    }
    reason.textContent = M.authentic_reason;
    var g = result.g;
    function row(label, value) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = label;
      dd.textContent = value;
      details.appendChild(dt);
      details.appendChild(dd);
    }
    row(M.fields.grn, g.get("grn"));
    row(M.fields.v, String(g.get("v")));
    row(M.fields.pn, g.get("pn"));
    row(M.fields.nif, g.get("nif"));
    row(M.fields.bk, g.get("bk"));
    row(M.fields.amt, formatAmount(g.get("amt"), g.get("cur")));
    row(M.fields.validity, fill(M.validity, { from: formatDay(g.get("vf")), until: formatDay(g.get("vu")) }));
    row(M.fields.ct, (g.get("ct") || []).join(", "));
    row(M.fields.io, formatDay(g.get("io")));
    row(M.fields.kid, result.kid);

    /* The status: the list's word for this version, and what the dates printed in the code say today. */
    var standing = "valid", called = false;
    if (statusList) {
      var value = listEntry(g.get("si"));
      standing = STATUS_NAMES[value & 7] || "valid";
      called = (value & 8) !== 0;
    }
    if (standing === "valid" && g.get("vu") < today()) { standing = "expired"; }
    if (standing === "valid" && g.get("vf") > today()) { standing = "not_yet_valid"; }
    section.dataset.standing = statusList ? standing : "unknown";
    var title = document.createElement("strong");
    title.className = "standing-" + (standing === "valid" ? "good" : "bad");
    if (statusList) {
      standingEl.textContent = fill(M.status_as_of, { when: formatDate(statusList.issuedAt) }) + " ";
      title.textContent = M.standings[standing] || standing;
      standingEl.appendChild(title);
      if (called) {
        var c = document.createElement("p");
        c.textContent = M.called;
        standingEl.appendChild(c);
      }
    } else {
      standingEl.textContent = M.no_list;
    }
    if (standing === "valid" && statusList === null) { section.className = "scan-result warn"; }
    else if (standing !== "valid") { section.className = "scan-result warn"; }

    /* Online: the register's live word too. */
    var url = root.dataset.liveUrl.replace("GRN", encodeURIComponent(g.get("grn"))) + "?v=" + g.get("v");
    if (navigator.onLine === false) { live.textContent = M.live_unavailable; return; }
    fetchJson(url).then(function (body) {
      live.textContent = fill(M.live, { label: body.label });
      live.dataset.standing = body.standing;
    }).catch(function (error) {
      live.textContent = error && /http 404/.test(error.message) ? M.live_unknown : M.live_unavailable;
    });
    section.scrollIntoView({ block: "start" });
  }

  /* --- Camera ---------------------------------------------------------------------------------------- */
  var video = $(".scan-video"), canvas = $(".scan-canvas"), stream = null, detector = null;
  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.hidden = true;
    $("[data-action=stop]").hidden = true;
    $("[data-action=camera]").hidden = false;
  }
  function found(text) {
    stopCamera();
    $("#scan-text").value = text;
    check(text);
  }
  function tick() {
    if (!stream) { return; }
    if (video.readyState < 2) { requestAnimationFrame(tick); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length) { found(codes[0].rawValue); } else { setTimeout(tick, 150); }
      }).catch(function () { setTimeout(tick, 300); });
      return;
    }
    var w = video.videoWidth, h = video.videoHeight;
    canvas.width = w;
    canvas.height = h;
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    var code = window.jsQR ? window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" }) : null;
    if (code && code.data) { found(code.data); } else { setTimeout(tick, 150); }
  }
  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      show({ ok: false, reason: "malformed" });
      $("[data-testid=reason]").textContent = M.camera_unavailable;
      return;
    }
    var ready = Promise.resolve();
    if ("BarcodeDetector" in window && !detector) {
      ready = window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") >= 0) { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); }
      }).catch(function () { detector = null; });
    }
    ready.then(function () {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      $("[data-action=stop]").hidden = false;
      $("[data-action=camera]").hidden = true;
      return video.play();
    }).then(tick).catch(function () {
      stopCamera();
      var el = $("[data-testid=list-age]");
      el.textContent = M.camera_unavailable;
    });
  }

  /* --- Wiring ----------------------------------------------------------------------------------------- */
  $("[data-action=camera]").addEventListener("click", startCamera);
  $("[data-action=stop]").addEventListener("click", stopCamera);
  $("[data-form=paste]").addEventListener("submit", function (event) {
    event.preventDefault();
    check($("#scan-text").value);
  });
  function fromHash() {
    if (location.hash.length > 1) {
      var text = location.href;
      $("#scan-text").value = decodeURIComponent(location.hash.slice(1));
      check(text);
    }
  }
  window.addEventListener("hashchange", fromHash);
  window.addEventListener("online", refresh);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.workerUrl, { scope: root.dataset.scope }).catch(function () {});
  }
  root.dataset.ready = "loading";
  refresh().then(function () {
    root.dataset.ready = "true";
    fromHash();
  });
})();
