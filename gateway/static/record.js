/* The printable member record: /record#member=<id>&token=<a token of her cooperative, or her
 * own>[&lang=it-IT,tl]. Her record as the gateway words and formats it, in her cooperative's
 * language and her own side by side (printableRecord { sheet }: the browser formats nothing),
 * and the QR code of a signed summary a cooperative checks offline.
 */
(function () {
  "use strict";

  var cb = window.coopbridge, sheet = window.coopbridgeSheet, el = cb.el;
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  var RECORD = [
    "query Record($id: ID!, $languages: [String!]) {",
    "  member(id: $id) { id identity { givenNames familyNames } }",
    "  printableRecord(memberId: $id) { credential qrSvg verifyUrl",
    sheet.FIELDS,
    "  }",
    "}"].join("\n");

  var memberId = null, languages = null;

  function setStatus(text, kind) {
    var status = document.getElementById("status");
    status.textContent = text;
    status.className = "status screen-only" + (kind ? " " + kind : "");
  }

  function payload(jws) {
    try {
      var part = jws.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var bytes = Uint8Array.from(window.atob(part + "===".slice((part.length + 3) % 4)),
                                  function (c) { return c.charCodeAt(0); });
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) { return {}; }
  }

  function render(member, printable) {
    var identity = member.identity, columns = printable.sheet;
    var name = identity ? identity.givenNames + " " + identity.familyNames : null;
    sheet.label(document.body, columns);
    if (name) { document.getElementById("member-name").textContent = name; }
    document.getElementById("member-id").textContent = member.id;
    var issuer = String(payload(printable.credential).issuer || "");
    document.getElementById("issuer").textContent =
      "coopbridge node " + issuer.replace("urn:coopbridge:node:", "");
    document.getElementById("verify-url").textContent = printable.verifyUrl;
    var box = document.getElementById("qr-code");
    if (!sheet.showQr(box, printable.qrSvg, "QR code: signed summary of this record")) {
      box.appendChild(el("p", {className: "empty", text: "The QR code could not be shown."}));
    }
    sheet.render(document.getElementById("columns"), columns);
    document.getElementById("sheet").classList.toggle("two-languages", columns.length > 1);
    document.getElementById("sheet").hidden = false;
    document.getElementById("print").disabled = false;
    document.title = (name ? name + " \u00b7 " : "") + sheet.labelsOf(columns[0]).title +
                     " \u00b7 coopbridge";
    document.body.setAttribute("data-state", "ready");
    setStatus("");
  }

  function load() {
    document.getElementById("token-panel").hidden = true;
    document.getElementById("forget-token").hidden = false;
    if (!memberId) {
      document.getElementById("member-panel").hidden = false;
      return;
    }
    document.getElementById("member-panel").hidden = true;
    setStatus("Loading\u2026");
    document.body.setAttribute("data-state", "loading");
    cb.graphql(RECORD, {id: memberId, languages: languages}).then(function (data) {
      if (!data.member || !data.printableRecord) {
        throw new Error("no such member, or this token may not print her record " +
                        "(a token of a cooperative she is active in, or her own, is needed)");
      }
      render(data.member, data.printableRecord);
    }).catch(function (error) {
      setStatus("Could not load the record: " + (error.message || error), "error");
      document.body.setAttribute("data-state", "error");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var params = cb.fragment();
    var given = params.get("member");
    memberId = given && UUID.test(given) ? given.toLowerCase() : null;
    languages = params.get("lang") ? params.get("lang").split(",").slice(0, 2) : null;
    document.getElementById("print").addEventListener("click", function () { window.print(); });
    document.getElementById("forget-token").addEventListener("click", function () {
      cb.setToken(null);
      window.location.reload();
    });
    document.getElementById("member-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var value = document.getElementById("member-input").value.trim();
      if (!UUID.test(value)) { document.getElementById("member-input").focus(); return; }
      memberId = value.toLowerCase();
      window.history.replaceState(null, "", window.location.pathname + "#member=" + memberId);
      load();
    });
    if (cb.token()) { load(); }
    else {
      document.getElementById("token-panel").hidden = false;
      cb.tokenForm(document.getElementById("token-form-slot"), load,
                   "A bearer token of one of her cooperatives, or her own. It stays in this " +
                   "browser tab only.");
    }
  });
}());
