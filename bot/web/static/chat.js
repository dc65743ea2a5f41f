// The web chat's only script, and only an enhancement: every form works without it (POST, then the page again).
// With it, a form is sent in the background, the page it leads to is read, and only what is new is added to
// the conversation (a role="log" region: a screen reader announces just the new replies); the controls below
// are refreshed, and focus stays in (or returns to) the message box; a reply's buttons are just before it.
(function () {
  "use strict";

  var log = document.getElementById("transcript");
  var text = document.getElementById("text");
  if (!log || !text || !window.fetch || !window.DOMParser) return;

  function numberOf(node) {
    return parseInt(node.getAttribute("data-n"), 10) || 0;
  }

  function entries(root) {
    return Array.prototype.slice.call(root.querySelectorAll("#transcript > article.entry"));
  }

  // Make the page's transcript match the new one: entries it no longer holds go (a "forget me", the oldest past
  // the cap), entries after the last one shown are added. Nothing already shown is added again.
  function reconcile(fresh) {
    var kept = {};
    entries(fresh).forEach(function (node) { kept[numberOf(node)] = true; });
    var last = 0;
    entries(document).forEach(function (node) {
      if (!kept[numberOf(node)]) node.remove();
      else last = Math.max(last, numberOf(node));
    });
    var added = [];
    entries(fresh).forEach(function (node) {
      if (numberOf(node) > last) added.push(document.importNode(node, true));
    });
    added.forEach(function (node) { log.appendChild(node); });
    // The newest entry is #latest (a link's target), the others #n<number>, as the page itself names them.
    var all = entries(document);
    all.forEach(function (node, i) { node.id = i === all.length - 1 ? "latest" : "n" + numberOf(node); });
    return added;
  }

  function replaceRegion(fresh, id) {
    var mine = document.getElementById(id);
    var theirs = fresh.getElementById(id);
    if (mine && theirs) mine.replaceChildren.apply(mine, Array.prototype.map.call(theirs.childNodes, function (n) {
      return document.importNode(n, true);
    }));
  }

  function notice(message) {
    var article = document.createElement("article");
    article.className = "entry bot notice";
    var p = document.createElement("p");
    p.textContent = message;
    article.appendChild(p);
    log.appendChild(article);
  }

  function body(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    if (form.getAttribute("enctype") === "multipart/form-data") return data;
    return new URLSearchParams(data);
  }


  var busy = false;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // Read as attributes: a form's buttons are named "action", which would hide the form's own property.
    var target = form instanceof HTMLFormElement ? form.getAttribute("action") : null;
    if (!target || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
    event.preventDefault();
    if (busy) return; // one turn at a time: a second press while the first is on its way is dropped
    busy = true;
    form.setAttribute("aria-busy", "true");
    var sent = body(form, event.submitter);
    fetch(target, { method: "POST", body: sent, credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.text().then(function (html) { return { ok: response.ok, html: html, url: response.url }; });
      })
      .then(function (result) {
        if (result.url && new URL(result.url).pathname !== window.location.pathname) {
          window.location.assign(result.url); // sent to another page (/agree typed: the signing page)
          return;
        }
        var fresh = new DOMParser().parseFromString(result.html, "text/html");
        if (!result.ok || !fresh.getElementById("transcript")) {
          var said = fresh.querySelector("main p");
          notice(said ? said.textContent : "");
          return;
        }
        reconcile(fresh);
        replaceRegion(fresh, "before-ask");
        replaceRegion(fresh, "after-ask");
        if (form.classList.contains("ask")) text.value = "";
        var latest = document.getElementById("latest");
        if (latest) latest.scrollIntoView({ block: "nearest" });
        text.focus(); // the replies are announced by the log; the next thing to do is usually to type
      })
      .catch(function () {
        window.location.assign(window.location.pathname); // the network failed: show the page as it now is
      })
      .finally(function () {
        busy = false;
        form.removeAttribute("aria-busy");
      });
  });

  // Enter sends, Shift+Enter starts a new line (without the script, the Send button sends).
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (text.value.trim()) text.form.requestSubmit();
    }
  });
  text.setAttribute("aria-describedby", "text-hint");
  var hint = document.getElementById("text-hint");
  if (hint && hint.getAttribute("data-js")) hint.textContent = hint.getAttribute("data-js");
})();
