/* The printable member record: /record#member=<id>&token=<a token of her cooperative>.
 * Her cooperatives, savings, loans, remittances and certificates from the member query,
 * and the QR code of printableRecord: a signed summary a cooperative checks offline.
 */
(function () {
  "use strict";

  var cb = window.coopbridge, el = cb.el;
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var PRODUCTS = {savings: "Savings", share_capital: "Share capital", loan: "Loan"};
  var KINDS = {language: "Language", vocational: "Vocational", business_start_up: "Business start-up",
               financial_literacy: "Financial literacy", governance: "Governance"};
  var ROLES = {member: "Member", worker_member: "Worker member", board_member: "Board member"};
  var REASONS = {returned_home: "returned home", moved: "moved", resigned: "resigned",
                 deceased: "deceased", expelled: "expelled"};

  var RECORD = [
    "query Record($id: ID!) {",
    "  member(id: $id) {",
    "    id erased",
    "    identity { givenNames familyNames }",
    "    memberships { cooperativeId role startedOn endedOn endReason active }",
    "    accounts { id cooperativeId product closed balance { amount currency }",
    "      loan { principal { amount currency } termMonths closed outstanding { amount currency }",
    "             repayments { timing } }",
    "      remittances { direction status corridor amount { amount currency minorUnits }",
    "                    fee { amount currency minorUnits } } }",
    "    certificates { title kind level language hours skills issuedOn completedOn revoked }",
    "  }",
    "  printableRecord(memberId: $id) { credential qrSvg verifyUrl }",
    "}"].join("\n");

  var memberId = null;

  function setStatus(text, kind) {
    var status = document.getElementById("status");
    status.textContent = text;
    status.className = "status screen-only" + (kind ? " " + kind : "");
  }

  function table(testid, columns, rows, empty) {
    if (!rows.length) { return el("p", {className: "empty", text: empty}); }
    return el("table", {"data-testid": testid}, [
      el("thead", {}, [el("tr", {}, columns.map(function (c) {
        return el("th", {scope: "col", className: c.num ? "num" : null, text: c.label});
      }))]),
      el("tbody", {}, rows.map(function (row) {
        return el("tr", {}, columns.map(function (c) {
          var value = row[c.field];
          var cell = el("td", {className: c.num ? "num" : null, "data-field": c.field});
          if (value instanceof window.Node) { cell.appendChild(value); }
          else { cell.textContent = value === null || value === undefined ? "" : String(value); }
          return cell;
        }));
      }))
    ]);
  }

  function fill(id, node) {
    var box = document.getElementById(id);
    box.textContent = "";
    box.appendChild(node);
  }

  function date(text) {
    if (!text) { return ""; }
    var d = new Date(text.length === 10 ? text + "T00:00:00Z" : text);
    if (isNaN(d.getTime())) { return text; }
    return d.toLocaleDateString("en-GB", {day: "numeric", month: "short", year: "numeric", timeZone: "UTC"});
  }

  function payload(jws) {
    try {
      var part = jws.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var bytes = Uint8Array.from(window.atob(part + "===".slice((part.length + 3) % 4)),
                                  function (c) { return c.charCodeAt(0); });
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) { return {}; }
  }

  function skillLabel(skill) {
    if (skill.indexOf("isco08:") === 0) { return "ISCO-08 " + skill.slice(7); }
    var m = /esco\/(skill|occupation|isco)\/(.+)$/.exec(skill);
    return m ? "ESCO " + m[1] + " " + m[2].slice(0, 8) : skill;
  }

  /* The QR code's SVG, parsed as SVG (never as HTML) and checked to be nothing else. */
  function showQr(svgText) {
    var parsed = new DOMParser().parseFromString(svgText, "image/svg+xml");
    var svg = parsed.documentElement;
    var box = document.getElementById("qr-code");
    box.textContent = "";
    if (svg.nodeName.toLowerCase() !== "svg" || parsed.getElementsByTagName("parsererror").length ||
        svg.getElementsByTagName("script").length) {
      box.appendChild(el("p", {className: "empty", text: "The QR code could not be shown."}));
      return;
    }
    var node = document.importNode(svg, true);
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", "QR code: signed summary of this record");
    box.appendChild(node);
  }

  /* A few lines that sum the record up, above the tables. */
  function glance(member, cooperatives) {
    var lines = [], memberships = member.memberships || [];
    var since = memberships.map(function (m) { return m.startedOn; }).sort()[0];
    if (since) { lines.push(["Member since", date(since)]); }
    var countries = {};
    memberships.forEach(function (m) {
      var c = cooperatives[m.cooperativeId];
      if (c) { countries[cb.countryName(c.country)] = true; }
    });
    lines.push(["Cooperatives", memberships.length + (Object.keys(countries).length
      ? " \u00b7 " + Object.keys(countries).sort().join(", ") : "")]);
    var onTime = 0, late = 0;
    (member.accounts || []).forEach(function (a) {
      if (!a.loan) { return; }
      a.loan.repayments.forEach(function (r) { if (r.timing === "late") { late += 1; } else { onTime += 1; } });
    });
    if (onTime + late) { lines.push(["Loan repayments", onTime + " on time, " + late + " late"]); }
    var certificates = (member.certificates || []).filter(function (c) { return !c.revoked; });
    var levels = certificates.filter(function (c) { return c.level; })
      .map(function (c) { return "CEFR " + c.level; });
    lines.push(["Certificates", certificates.length + (levels.length ? " (" + levels.join(", ") + ")" : "")]);
    var list = document.getElementById("glance");
    list.textContent = "";
    lines.forEach(function (line) {
      list.appendChild(el("li", {}, [el("span", {text: line[0]}), el("strong", {text: line[1]})]));
    });
  }

  function render(member, printable, cooperatives) {
    function coopName(id) { return cooperatives[id] ? cooperatives[id].name : id; }
    function coopCountry(id) { return cooperatives[id] ? cb.countryName(cooperatives[id].country) : ""; }

    var identity = member.identity;
    document.getElementById("member-name").textContent = identity
      ? identity.givenNames + " " + identity.familyNames : "Member record";
    document.getElementById("member-id").textContent = member.id;
    document.getElementById("printed").textContent = date(new Date().toISOString());

    if (printable) {
      var claims = payload(printable.credential);
      var issuer = String(claims.issuer || "");
      document.getElementById("issuer").textContent =
        "coopbridge node " + issuer.replace("urn:coopbridge:node:", "");
      document.getElementById("valid-until").textContent = date(claims.validUntil);
      document.getElementById("verify-url").textContent = printable.verifyUrl;
      showQr(printable.qrSvg);
    }

    fill("memberships", table("memberships-table", [
      {field: "cooperative", label: "Cooperative"}, {field: "country", label: "Country"},
      {field: "role", label: "Role"}, {field: "from", label: "From"}, {field: "until", label: "Until"}
    ], (member.memberships || []).map(function (m) {
      return {cooperative: coopName(m.cooperativeId), country: coopCountry(m.cooperativeId),
              role: ROLES[m.role] || m.role, from: date(m.startedOn),
              until: m.endedOn ? date(m.endedOn) + (m.endReason ? " (" + (REASONS[m.endReason] || m.endReason) + ")" : "")
                               : "member today"};
    }), "No memberships."));

    var accounts = member.accounts || [];
    fill("savings", table("savings-table", [
      {field: "product", label: "Account"}, {field: "cooperative", label: "Cooperative"},
      {field: "balance", label: "Balance", num: true}, {field: "status", label: "Status"}
    ], accounts.filter(function (a) { return a.product !== "loan"; }).map(function (a) {
      return {product: PRODUCTS[a.product] || a.product, cooperative: coopName(a.cooperativeId),
              balance: cb.money(a.balance), status: a.closed ? "closed" : "open"};
    }), "No savings or share accounts."));

    fill("loans", table("loans-table", [
      {field: "cooperative", label: "Cooperative"}, {field: "principal", label: "Loan", num: true},
      {field: "term", label: "Term"}, {field: "repayments", label: "Repayments"},
      {field: "outstanding", label: "Still owed", num: true}, {field: "status", label: "Status"}
    ], accounts.filter(function (a) { return a.loan; }).map(function (a) {
      var t = {early: 0, on_time: 0, late: 0};
      a.loan.repayments.forEach(function (r) { t[r.timing] = (t[r.timing] || 0) + 1; });
      var made = a.loan.repayments.length;
      return {cooperative: coopName(a.cooperativeId), principal: cb.money(a.loan.principal),
              term: a.loan.termMonths + " months",
              repayments: made + " made: " + (t.on_time + t.early) + " on time" +
                          (t.early ? " (" + t.early + " early)" : "") + ", " + t.late + " late",
              outstanding: cb.money(a.loan.outstanding),
              status: a.loan.closed ? "repaid" : "being repaid"};
    }), "No loans."));

    var corridors = {};
    accounts.forEach(function (a) {
      (a.remittances || []).forEach(function (r) {
        if (r.direction !== "sent" || r.status === "refunded") { return; }
        var key = (r.corridor || "?") + " " + r.amount.currency;
        var c = corridors[key] = corridors[key] || {corridor: r.corridor, currency: r.amount.currency,
                                                    count: 0, sent: 0, fees: 0, digits: 0};
        c.count += 1;  // sums in minor units (integers): exact
        c.digits = (r.amount.amount.split(".")[1] || "").length;
        c.sent += Number(r.amount.minorUnits);
        c.fees += r.fee ? Number(r.fee.minorUnits) : 0;
      });
    });
    fill("remittances", table("remittances-table", [
      {field: "corridor", label: "From \u2192 to"}, {field: "count", label: "Transfers", num: true},
      {field: "sent", label: "Sent", num: true}, {field: "fees", label: "Fees paid", num: true},
      {field: "share", label: "Fees / sent", num: true}
    ], Object.keys(corridors).sort().map(function (key) {
      var c = corridors[key], scale = Math.pow(10, c.digits);
      var parts = (c.corridor || "").split("-");
      function amount(minor) {
        return {amount: (minor / scale).toFixed(c.digits), currency: c.currency};
      }
      return {corridor: parts.length === 2 ? cb.countryName(parts[0]) + " \u2192 " + cb.countryName(parts[1]) : c.corridor,
              count: c.count, sent: cb.money(amount(c.sent)), fees: cb.money(amount(c.fees)),
              share: c.sent ? (100 * c.fees / c.sent).toFixed(2) + "%" : ""};
    }), "No remittances."));

    fill("certificates", table("certificates-table", [
      {field: "title", label: "Certificate"}, {field: "kind", label: "Kind"},
      {field: "level", label: "Level"}, {field: "hours", label: "Hours", num: true},
      {field: "skills", label: "Skills"}, {field: "issued", label: "Issued"}
    ], (member.certificates || []).map(function (c) {
      return {title: c.title + (c.revoked ? " (revoked)" : ""), kind: KINDS[c.kind] || c.kind,
              level: c.level ? "CEFR " + c.level + (c.language ? " \u00b7 " + c.language : "") : "",
              hours: c.hours, skills: (c.skills || []).map(skillLabel).join(", "),
              issued: date(c.issuedOn || c.completedOn)};
    }), "No certificates."));

    glance(member, cooperatives);
    document.getElementById("sheet").hidden = false;
    document.getElementById("print").disabled = false;
    document.title = (identity ? identity.givenNames + " " + identity.familyNames + " \u00b7 " : "") +
                     "Member record \u00b7 coopbridge";
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
    cb.graphql(RECORD, {id: memberId}).then(function (data) {
      if (!data.member) {
        throw new Error("no such member, or this token may not see her record " +
                        "(a token of one of her cooperatives is needed)");
      }
      var ids = [];
      (data.member.memberships || []).concat(data.member.accounts || []).forEach(function (x) {
        if (ids.indexOf(x.cooperativeId) < 0) { ids.push(x.cooperativeId); }
      });
      if (!ids.length) { return render(data.member, data.printableRecord, {}); }
      var query = "query(" + ids.map(function (_, i) { return "$c" + i + ": ID!"; }).join(", ") + ") { " +
        ids.map(function (_, i) { return "c" + i + ": cooperative(id: $c" + i + ") { id name country }"; }).join(" ") + " }";
      var variables = {};
      ids.forEach(function (id, i) { variables["c" + i] = id; });
      return cb.graphql(query, variables).then(function (coops) {
        var byId = {};
        Object.keys(coops).forEach(function (k) { if (coops[k]) { byId[coops[k].id] = coops[k]; } });
        render(data.member, data.printableRecord, byId);
      });
    }).catch(function (error) {
      setStatus("Could not load the record: " + (error.message || error), "error");
      document.body.setAttribute("data-state", "error");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var params = cb.fragment();
    var given = params.get("member");
    memberId = given && UUID.test(given) ? given.toLowerCase() : null;
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
                   "A bearer token of one of her cooperatives. It stays in this browser tab only.");
    }
  });
}());
