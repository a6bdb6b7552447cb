"""The chat widget served at ``/widget``: one HTML page with its CSS and JS inline.

The page reads its settings from the URL fragment (``#key=...&token=...``), which browsers never
send to a server, so neither the key nor the customer token reaches an access log. It loads
nothing from anywhere but the server it came from, and writes replies with ``textContent`` only.
"""

from __future__ import annotations

from typing import Final

__all__ = ["WIDGET_HTML"]

WIDGET_HTML: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chat with us</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; display: flex;
         flex-direction: column; height: 100vh; background: #fafafa; }
  #log { flex: 1; overflow-y: auto; padding: 12px; }
  .msg { margin: 6px 0; padding: 8px 12px; border-radius: 12px; max-width: 80%;
         white-space: pre-wrap; }
  .me { background: #2f6fde; color: #fff; margin-left: auto; }
  .bot { background: #e9e9ef; }
  .handoff { background: #fff4d6; border: 1px solid #e0b000; }
  .handoff-note { display: block; font-size: 12px; font-weight: 600; margin-top: 4px; }
  .error { background: #fde2e2; }
  form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #ddd; background: #fff; }
  input { flex: 1; padding: 8px; font: inherit; }
  button { padding: 8px 14px; font: inherit; }
</style>
</head>
<body>
<div id="log" role="log" aria-live="polite"></div>
<form id="form">
  <input id="message" name="message" autocomplete="off" maxlength="2000"
         placeholder="Ask us anything" aria-label="Your message">
  <button id="send" type="submit">Send</button>
</form>
<script>
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.hash.slice(1));
  var apiKey = params.get("key") || "";
  var token = params.get("token");
  var log = document.getElementById("log");
  var input = document.getElementById("message");
  var button = document.getElementById("send");

  function add(text, kind, note) {
    var div = document.createElement("div");
    div.className = "msg " + kind;
    div.textContent = text;
    if (note) {
      var span = document.createElement("span");
      span.className = "handoff-note";
      span.textContent = note;
      div.appendChild(span);
    }
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  document.getElementById("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    add(text, "me");
    button.disabled = true;
    fetch("/v1/support/answer", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
      body: JSON.stringify({ message: text, customer_token: token || null })
    }).then(function (response) {
      return response.json().then(function (body) { return [response.ok, body]; });
    }).then(function (result) {
      var ok = result[0], reply = result[1];
      if (!ok) {
        add("Sorry, something went wrong. Please try again later.", "bot error");
      } else if (reply.handoff) {
        add(reply.text, "bot handoff", "A person will take it from here.");
      } else {
        add(reply.text, "bot");
      }
    }).catch(function () {
      add("Sorry, we could not reach the chat. Please try again later.", "bot error");
    }).then(function () { button.disabled = false; input.focus(); });
  });
})();
</script>
</body>
</html>
"""
