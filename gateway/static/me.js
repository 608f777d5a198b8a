/* Her own page: /me[#lang=es-ES,es-EC]. She opens it with the activation code her cooperative
 * gave her (redeemMemberAccess: her own token, kept in this tab only); then she sees her
 * record in her cooperative's language and her own side by side, who may read it (each
 * consent revoked in one click, confirmed in the page), who read it, the records she shared,
 * and the QR code of her printable record. Every word and every date comes from the gateway,
 * in her language (Me.page, printableRecord.sheet, /i18n/{lang}.json): the browser formats
 * nothing.
 */
(function () {
  "use strict";

  var cb = window.coopbridge, sheet = window.coopbridgeSheet, el = cb.el;
  var languages = [], words = {};

  var REDEEM = "mutation($code: String!) { redeemMemberAccess(input: {code: $code}) {" +
    " __typename ... on MemberToken { token memberId } ... on Problem { code } } }";
  var MINE = [
    "query Mine($lang: [String!]) { me { memberId",
    "  record { identity { givenNames familyNames } }",
    "  page(lang: $lang) { language direction words { key text }",
    "    consents { consentId grantee what until status active }",
    "    exports { credentialId recipient until status }",
    "    readings { at reader what } } } }"].join("\n");
  var PRINTABLE = [
    "query Printable($id: ID!, $languages: [String!]) {",
    "  printableRecord(memberId: $id) { qrSvg", sheet.FIELDS, "} }"].join("\n");
  var REVOKE = "mutation($input: RevokeConsentInput!) { revokeConsent(input: $input) {" +
    " __typename ... on Problem { code message } } }";
  var RENEW = "mutation { renewMemberToken { __typename ... on MemberToken { token } } }";
  /* Her token is renewed when it has less than this left (it lives 7 days). */
  var RENEW_BEFORE_MS = 3 * 24 * 3600 * 1000;

  function word(key) { return words[key] || ""; }

  function setStatus(key, kind) {
    var status = document.getElementById("status");
    status.textContent = key ? word(key) : "";
    status.className = "status" + (kind ? " " + kind : "");
  }

  /* The page's words in its language, and its lang and dir. */
  function applyWords(language, direction, list) {
    if (list) { words = list; }
    document.documentElement.lang = language;
    document.documentElement.dir = direction;
    Array.prototype.forEach.call(document.querySelectorAll("[data-word]"), function (node) {
      var text = words[node.getAttribute("data-word")];
      if (text) { node.textContent = text; }
    });
    document.title = word("title") + " \u00b7 coopbridge";
  }

  function loadWords() {
    var first = languages[0] || "auto";
    return window.fetch("/i18n/" + encodeURIComponent(first) + ".json", {credentials: "omit"})
      .then(function (r) { return r.json(); })
      .then(function (body) { applyWords(body.language, body.direction, body.words); })
      .catch(function () { /* the page's English stays */ });
  }

  function rows(id, items, empty, render) {
    var list = document.getElementById(id);
    list.textContent = "";
    if (!items.length) {
      list.appendChild(el("li", {className: "empty", text: word(empty)}));
      return;
    }
    items.forEach(function (item) { list.appendChild(render(item)); });
  }

  var memberId = null, pending = null;

  /* When her token stops working (its exp claim), in ms; 0 if it cannot be read. */
  function expiry(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(window.atob(part + "===".slice((part.length + 3) % 4))).exp * 1000;
    } catch (e) { return 0; }
  }

  /* A token with little time left is renewed while her access is live. */
  function renewIfDue() {
    var token = cb.token();
    if (!token || expiry(token) - Date.now() > RENEW_BEFORE_MS) { return Promise.resolve(); }
    return cb.graphql(RENEW, {}).then(function (data) {
      if (data.renewMemberToken.__typename === "MemberToken") {
        cb.setToken(data.renewMemberToken.token);
      }
    }).catch(function () { /* the old one goes on until it expires */ });
  }

  function confirmRevoke(consent) {
    var dialog = document.getElementById("confirm");
    document.getElementById("confirm-who").textContent = consent.grantee + " \u2014 " + consent.what;
    pending = consent;
    dialog.showModal();
  }

  function render(me, printable) {
    var page = me.page, identity = me.record.identity;
    var list = {};
    page.words.forEach(function (w) { list[w.key] = w.text; });
    applyWords(page.language, page.direction, list);
    document.getElementById("member-name").textContent =
      identity ? identity.givenNames + " " + identity.familyNames : "";
    rows("consents", page.consents, "no_consents", function (c) {
      var item = el("li", {"data-testid": "consent", "data-consent": c.consentId}, [
        el("span", {className: "row-main"}, [el("strong", {text: c.grantee}), " ",
                                             el("span", {text: c.what})]),
        el("span", {className: "row-meta", text: c.until + " \u00b7 " + c.status})]);
      if (c.active) {
        var button = el("button", {type: "button", className: "quiet", text: word("revoke"),
                                   "data-testid": "revoke",
                                   "aria-label": word("revoke") + ": " + c.grantee});
        button.addEventListener("click", function () { confirmRevoke(c); });
        item.appendChild(button);
      }
      return item;
    });
    rows("readings", page.readings, "no_readings", function (r) {
      return el("li", {"data-testid": "reading"}, [
        el("span", {className: "row-main"}, [el("strong", {text: r.reader}), " ",
                                             el("span", {text: r.what})]),
        el("span", {className: "row-meta", text: r.at})]);
    });
    rows("exports", page.exports, "no_exports", function (x) {
      return el("li", {"data-testid": "export"}, [
        el("span", {className: "row-main"}, [el("strong", {text: x.recipient})]),
        el("span", {className: "row-meta", text: x.until + " \u00b7 " + x.status})]);
    });
    if (printable) {
      sheet.showQr(document.getElementById("qr-code"), printable.qrSvg, word("qr_hint"));
      sheet.render(document.getElementById("columns"), printable.sheet);
      document.querySelector(".me .sheet").classList.toggle("two-languages",
                                                            printable.sheet.length > 1);
      document.getElementById("printable").setAttribute(
        "href", "/record#member=" + me.memberId + "&lang=" +
        printable.sheet.map(function (c) { return c.language; }).join(","));
    }
    document.getElementById("mine").hidden = false;
    document.getElementById("sign-out").hidden = false;
    document.getElementById("code-panel").hidden = true;
    document.body.setAttribute("data-state", "ready");
    setStatus("");
  }

  function load() {
    setStatus("loading");
    document.body.setAttribute("data-state", "loading");
    var lang = languages.length ? languages : null;
    cb.graphql(MINE, {lang: lang}).then(function (data) {
      if (!data.me) { throw new Error("no record"); }
      memberId = data.me.memberId;
      renewIfDue();
      return cb.graphql(PRINTABLE, {id: memberId, languages: lang ? lang.slice(0, 2) : null})
        .then(function (more) { render(data.me, more.printableRecord); });
    }).catch(function (error) {
      var unauthenticated = error.errors && error.errors.some(function (e) {
        return e.extensions && e.extensions.code === "UNAUTHENTICATED";
      });
      if (unauthenticated) { cb.setToken(null); askForCode(); return; }
      setStatus("failed", "error");
      document.body.setAttribute("data-state", "error");
    });
  }

  function askForCode() {
    document.getElementById("mine").hidden = true;
    document.getElementById("sign-out").hidden = true;
    document.getElementById("code-panel").hidden = false;
    document.body.setAttribute("data-state", "code");
    document.getElementById("code-input").focus();
  }

  function redeem(code) {
    setStatus("opening");
    cb.setToken(null);
    cb.graphql(REDEEM, {code: code}).then(function (data) {
      var answer = data.redeemMemberAccess;
      if (answer.__typename !== "MemberToken") {
        setStatus(answer.code === "TooManyAttempts" ? "too_many" : "code_refused", "error");
        document.body.setAttribute("data-state", "code");
        return;
      }
      cb.setToken(answer.token);
      document.getElementById("code-input").value = "";
      load();
    }).catch(function () { setStatus("failed", "error"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var params = cb.fragment();
    var asked = params.get("lang");
    /* without #lang: the gateway's choice (her own languages, then the browser's) */
    languages = asked ? asked.split(",").filter(Boolean).slice(0, 3) : [];
    document.getElementById("code-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var code = document.getElementById("code-input").value.trim();
      if (!code) { document.getElementById("code-input").focus(); return; }
      redeem(code);
    });
    document.getElementById("sign-out").addEventListener("click", function () {
      /* this device forgets her token; her access stays (a code serves once: ending it
       * would send her back to the counter), and her cooperative can end it */
      cb.setToken(null);
      window.location.reload();
    });
    document.getElementById("confirm").addEventListener("close", function () {
      var dialog = document.getElementById("confirm"), consent = pending;
      pending = null;
      if (dialog.returnValue !== "revoke" || !consent) { return; }
      cb.graphql(REVOKE, {input: {memberId: memberId, consentId: consent.consentId}})
        .then(function (data) {
          if (data.revokeConsent.__typename !== "CommandAccepted") { throw new Error("refused"); }
          load();
        })
        .catch(function () { setStatus("failed", "error"); });
    });
    loadWords().then(function () {
      if (cb.token()) { load(); } else { askForCode(); }
    });
  });
}());
