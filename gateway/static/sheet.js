/* Her record sheet, as the gateway words and formats it (printableRecord { sheet }): one
 * column per language, side by side (stacked on a phone), each with its own lang and dir.
 * The browser formats nothing here: every day, amount and count comes formatted for its
 * language's locale, every label from the message catalogues. Shared by /record and /me.
 */
(function () {
  "use strict";

  var el = window.coopbridge.el;

  var SHEET_FIELDS = [
    "sheet(languages: $languages) {",
    "  language direction catalogue labels { key text } glance { label value }",
    "  tables { key heading empty columns { text numeric }",
    "           rows { cells { text language note } } }",
    "}"].join("\n");

  function labelsOf(column) {
    var labels = {};
    column.labels.forEach(function (l) { labels[l.key] = l.text; });
    return labels;
  }

  /* A cell: its text, in its own language (marked) when it is not the column's. */
  function cell(tag, c, header) {
    var node = el(tag, {className: header.numeric ? "num" : null, "data-label": header.text});
    if (c.language) {
      node.appendChild(el("span", {lang: c.language, dir: "auto", text: c.text}));
      node.appendChild(el("span", {className: "fallback", text: " " + (c.note || "")}));
    } else {
      node.textContent = c.text;
    }
    return node;
  }

  function table(t) {
    if (!t.rows.length) { return el("p", {className: "empty", text: t.empty}); }
    return el("table", {"data-testid": t.key + "-table"}, [
      el("thead", {}, [el("tr", {}, t.columns.map(function (h) {
        return el("th", {scope: "col", className: h.numeric ? "num" : null, text: h.text});
      }))]),
      el("tbody", {}, t.rows.map(function (row) {
        return el("tr", {}, row.cells.map(function (c, i) { return cell("td", c, t.columns[i]); }));
      }))
    ]);
  }

  /* The columns, each a section of its own language, into ``box``. */
  function render(box, columns) {
    box.textContent = "";
    box.setAttribute("data-columns", String(columns.length));
    columns.forEach(function (column) {
      var labels = labelsOf(column);
      var glance = el("ul", {className: "glance", "data-testid": "glance",
                             "aria-label": labels.at_a_glance}, column.glance.map(function (line) {
        return el("li", {}, [el("span", {text: line.label}), el("strong", {text: line.value})]);
      }));
      var parts = column.tables.map(function (t) {
        var id = "t-" + column.language + "-" + t.key;
        return el("section", {className: "block", "aria-labelledby": id}, [
          el("h2", {id: id, text: t.heading}),
          el("div", {"data-testid": t.key}, [table(t)])
        ]);
      });
      box.appendChild(el("section", {className: "language-column", lang: column.language,
                                     dir: column.direction, "data-testid": "column",
                                     "data-language": column.language},
                         [glance].concat(parts)));
    });
  }

  /* Every [data-label] under ``root``: its word in the first language, and in the second
   * beside it (its own lang and dir); the page itself takes the first's lang and dir. */
  function label(root, columns) {
    var first = labelsOf(columns[0]), second = columns[1] ? labelsOf(columns[1]) : null;
    document.documentElement.lang = columns[0].language;
    document.documentElement.dir = columns[0].direction;
    Array.prototype.forEach.call(root.querySelectorAll("[data-label]"), function (node) {
      var key = node.getAttribute("data-label");
      if (first[key] === undefined) { return; }
      node.textContent = first[key];
      if (second && second[key] !== undefined && second[key] !== first[key]) {
        node.appendChild(el("span", {className: "second", lang: columns[1].language,
                                     dir: columns[1].direction, text: second[key]}));
      }
    });
  }

  /* A QR code's SVG into ``box``, parsed as SVG (never as HTML) and checked to be nothing
   * else; false (and nothing shown) when it is not one. */
  function showQr(box, svgText, label) {
    var parsed = new DOMParser().parseFromString(svgText, "image/svg+xml");
    var svg = parsed.documentElement;
    box.textContent = "";
    if (svg.nodeName.toLowerCase() !== "svg" || parsed.getElementsByTagName("parsererror").length ||
        svg.getElementsByTagName("script").length) { return false; }
    var node = document.importNode(svg, true);
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", label);
    box.appendChild(node);
    return true;
  }

  window.coopbridgeSheet = {FIELDS: SHEET_FIELDS, render: render, labelsOf: labelsOf,
                            label: label, showQr: showQr};
}());
