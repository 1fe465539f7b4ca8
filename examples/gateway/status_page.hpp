// examples/gateway/status_page.hpp — the page `GET /` serves (behaviour §13).
//
// One self-contained HTML document, compiled into the binary: no external script, style,
// font or image, so it works offline and behind any proxy. It asks /whoami who the
// gateway thinks you are (the same decision the page itself passed) and opens /ws for a
// console of RPC frames. A refused request gets the page too, with its 4xx status: the
// page then shows the refusal, and its reason code when gateway.auth.exposeReasons is on.
#pragma once

#include <string_view>

namespace trustgate_gateway {

inline constexpr std::string_view status_page_html = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trustgate status</title>
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; }
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
  h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
  .muted { color: var(--muted); }
  dl { display: grid; grid-template-columns: 9rem 1fr; gap: .35rem 1rem; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
  .scope { display: inline-block; border: 1px solid var(--muted); border-radius: 1rem; padding: 0 .55rem; margin: 0 .3rem .3rem 0; }
  #refusal { border-left: 4px solid var(--bad); padding: .5rem .9rem; background: rgba(207,34,46,.08); }
  #identity-panel { border-left: 4px solid var(--ok); padding: .5rem .9rem; background: rgba(26,127,55,.08); }
  [hidden] { display: none !important; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; }
  input { font: inherit; font-family: ui-monospace, monospace; padding: .3rem .5rem; }
  #method { width: 10rem; } #params { flex: 1; min-width: 12rem; }
  button { font: inherit; padding: .3rem .9rem; }
  #log { font: 13px/1.4 ui-monospace, monospace; white-space: pre-wrap; border: 1px solid var(--muted);
         border-radius: .3rem; padding: .5rem; min-height: 6rem; max-height: 22rem; overflow: auto; margin-top: .5rem; }
  .sent { color: var(--muted); } .answer-ok { color: var(--ok); } .answer-error { color: var(--bad); }
</style>
</head>
<body>
<h1>trustgate gateway</h1>
<p class="muted">What this gateway decided about the request that loaded this page.</p>

<section id="identity-panel" hidden>
  <dl>
    <dt>you are</dt><dd id="user"></dd>
    <dt>established by</dt><dd><span id="via"></span> <span id="via-explained" class="muted"></span></dd>
    <dt>client IP</dt><dd id="client-ip"></dd>
    <dt>scopes</dt><dd id="scopes"></dd>
  </dl>
</section>
<section id="refusal" hidden>
  <strong id="refusal-title"></strong>
  <div id="refusal-reason"></div>
</section>

<h2>WebSocket console <span id="ws-state" class="muted">(closed)</span></h2>
<form id="console">
  <input id="method" value="health" aria-label="method" autocomplete="off">
  <input id="params" value="{}" aria-label="params (JSON object)" autocomplete="off">
  <button id="send" type="submit" disabled>send</button>
</form>
<div id="log" aria-live="polite"></div>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
const explained = {
  "trusted-proxy": "the trusted proxy vouched for you in its user header",
  "loopback-user": "a direct local connection from a local tool (no proxy in between)",
  "token": "the gateway token (Authorization: Bearer)",
  "none": "auth mode none: everyone is anonymous"
};

function log(text, cls) {
  const line = document.createElement("div");
  line.className = cls;
  line.textContent = text;
  $("log").append(line);
  $("log").scrollTop = $("log").scrollHeight;
}

async function whoami() {
  let res, body;
  try {
    // From the origin: a page opened as http://user:password@host/ cannot fetch a URL
    // relative to its own (it would carry the credentials).
    res = await fetch(new URL("/whoami", location.origin), { credentials: "same-origin", cache: "no-store" });
    body = await res.json();
  } catch (e) {
    return refused("The gateway did not answer /whoami", String(e));
  }
  if (!res.ok) {
    const err = body && body.error || {};
    return refused(res.status + " " + (err.message || res.statusText),
                   err.reason ? "reason: " + err.reason
                              : "The reason is hidden: set gateway.auth.exposeReasons to true to show it here.");
  }
  $("user").textContent = body.user;
  $("via").textContent = body.via;
  $("via-explained").textContent = "(" + (explained[body.via] || "") + ")";
  $("client-ip").textContent = body.clientIp;
  $("scopes").replaceChildren(...body.scopes.map((s) => {
    const span = document.createElement("span");
    span.className = "scope";
    span.textContent = s;
    return span;
  }));
  if (body.scopes.length === 0) $("scopes").textContent = "none";
  $("identity-panel").hidden = false;
  connect();
}

function refused(title, detail) {
  $("refusal-title").textContent = title;
  $("refusal-reason").textContent = detail;
  $("refusal").hidden = false;
}

let socket = null;
let nextId = 1;
function connect() {
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  $("ws-state").textContent = "(connecting)";
  socket.onopen = () => { $("ws-state").textContent = "(open)"; $("send").disabled = false; };
  socket.onclose = (e) => {
    $("ws-state").textContent = "(closed" + (e.code ? " " + e.code : "") + (e.reason ? ": " + e.reason : "") + ")";
    $("send").disabled = true;
  };
  socket.onmessage = (e) => {
    let ok = false;
    try { ok = JSON.parse(e.data).ok === true; } catch (_) {}
    log("← " + e.data, ok ? "answer-ok" : "answer-error");
  };
}

$("console").addEventListener("submit", (e) => {
  e.preventDefault();
  let params;
  try { params = JSON.parse($("params").value || "{}"); } catch (_) {
    return log("params is not JSON", "answer-error");
  }
  const frame = JSON.stringify({ id: nextId++, method: $("method").value, params });
  socket.send(frame);
  log("→ " + frame, "sent");
});

whoami();
</script>
</body>
</html>
)html";

}  // namespace trustgate_gateway
