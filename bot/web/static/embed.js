/* The launcher button for a school's own site: one line on any page,
     <script src="https://CHAT-ADDRESS/static/embed.js" defer></script>
   adds a button (bottom right) that opens the web chat in a panel (an iframe of CHAT-ADDRESS) and closes it.
   Optional attributes on the script tag: data-label="…" (the button's text), data-title="…" (the panel's name
   for screen readers). The chat's address must allow the site in WEB_EMBED_ORIGINS. No inline script, no
   other file, nothing sent anywhere until the button is pressed. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var chat = new URL("../", script.src).href;  // this file is CHAT-ADDRESS/static/embed.js
  var label = script.getAttribute("data-label") || "Questions about our social media policy?";
  var title = script.getAttribute("data-title") || "Policy questions chat";
  var closeLabel = script.getAttribute("data-close-label") || "Close the chat";
  var panelId = "policybot-panel";

  var button = document.createElement("button");
  button.type = "button";
  button.id = "policybot-launcher";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", panelId);
  style(button, { position: "fixed", right: "1rem", bottom: "1rem", zIndex: "2147483000", font: "inherit",
                  padding: ".7rem 1rem", border: "2px solid #0b4f8a", borderRadius: ".5rem",
                  background: "#0b4f8a", color: "#ffffff", cursor: "pointer" });

  var panel = document.createElement("div");
  panel.id = panelId;
  panel.hidden = true;
  panel.setAttribute("role", "region");
  panel.setAttribute("aria-label", title);
  style(panel, { position: "fixed", right: "1rem", bottom: "4.5rem", zIndex: "2147483000",
                 width: "min(28rem, calc(100vw - 2rem))", height: "min(40rem, calc(100vh - 6rem))",
                 background: "#ffffff", border: "1px solid #555", borderRadius: ".5rem",
                 boxShadow: "0 .25rem 1rem rgba(0,0,0,.25)", display: "flex", flexDirection: "column" });

  var close = document.createElement("button");
  close.type = "button";
  close.textContent = closeLabel;
  style(close, { alignSelf: "flex-end", margin: ".25rem", font: "inherit", padding: ".3rem .6rem",
                 border: "2px solid #0b4f8a", borderRadius: ".4rem", background: "#ffffff", color: "#0b4f8a",
                 cursor: "pointer" });

  var frame = null;  // made on first open: nothing is loaded from the chat before the person asks for it

  function style(element, properties) {
    for (var name in properties) { element.style[name] = properties[name]; }
  }

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = chat;
      frame.title = title;
      frame.id = "policybot-frame";
      style(frame, { flex: "1", width: "100%", border: "0" });
      panel.appendChild(frame);
    }
    panel.hidden = false;
    panel.style.display = "flex";
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }

  function shut() {
    panel.hidden = true;
    panel.style.display = "none";
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", function () {
    if (panel.hidden) { open(); } else { shut(); }
  });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { shut(); }
  });

  panel.appendChild(close);
  panel.style.display = "none";

  function place() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
  }
  if (document.body) { place(); } else { document.addEventListener("DOMContentLoaded", place); }
}());
