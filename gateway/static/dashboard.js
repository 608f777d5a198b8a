/* The federation dashboard: charts and tables of federationStats, filtered by country,
 * cooperative and period, redrawn when the federation's activity arrives (a subscription
 * to federationActivity per country: a window of counts every 30 seconds, which has counts
 * only when at least 5 people were behind them). Suppressed cells (fewer than 5 people) are
 * shown as such, never as a number; every chart has a table of the exact figures the gateway
 * sent.
 *
 * A redraw updates charts, tables and tiles in place (focus, scroll and a screen reader's
 * place survive it); series differ by dash, point shape or hatching as well as by colour;
 * money is charted one currency per chart; live activity is announced as a summary at most
 * every ANNOUNCE_EVERY milliseconds, not event by event.
 */
(function () {
  "use strict";

  var cb = window.coopbridge, el = cb.el;
  // Okabe-Ito hues, the orange and the sky blue darkened to 3:1 on white (WCAG 1.4.11)
  var PALETTE = ["#0072B2", "#A66F00", "#009E73", "#CC79A7", "#2A87C0", "#D55E00", "#6B6B6B"];
  // a hatching per series after the first (white strokes on the series' colour, 10 px tiles)
  var HATCHES = [null, [[0, 10, 10, 0], [-1, 1, 1, -1], [9, 11, 11, 9]], [[0, 5, 10, 5]],
                 [[0, 0, 10, 10], [-1, 9, 1, 11], [9, -1, 11, 1]], [[5, 0, 5, 10]],
                 [[0, 5, 10, 5], [5, 0, 5, 10]]];
  // a line per series: the first dashed, then a dash and a point shape each
  var LINES = [[[6, 4], "circle"], [[], "triangle"], [[2, 3], "rect"], [[10, 3, 2, 3], "rectRot"],
               [[1, 3], "crossRot"]];
  var ANNOUNCE_EVERY = 10000;
  var GENDERS = [["female", "Women"], ["male", "Men"], ["other", "Other"], ["unstated", "Not stated"]];
  var KINDS = {language: "Language", vocational: "Vocational", business_start_up: "Business start-up",
               financial_literacy: "Financial literacy", governance: "Governance"};
  var CEFR = ["A1", "A2", "B1", "B2", "C1", "C2"];
  var FEWER = "fewer than 5 each";
  var HIDDEN = "not shown";
  var MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

  var state = {
    country: "", cooperative: "", from: "", to: "",
    features: {gender: true, returns: true, active: true, turnout: true, insurance: true},  // off if this gateway lacks them
    charts: {}, patterns: {}, cooperatives: {}, countries: [], live: null, liveKey: "",
    renders: 0, pending: null, inFlight: false, again: "", events: 0, eventsDrawn: 0,
    liveWords: "", eventWords: "", drawnAt: ""
  };

  // -- queries --------------------------------------------------------------------------------

  function cellFields() {
    return "key suppressed members joined left " +
      (state.features.active ? "activeMembers " : "") +
      (state.features.returns ? "returnedHome arrivedHome " : "") +
      "deposits { amount currency } savingsBalance { amount currency } remittancesSent " +
      "remittanceVolume { amount currency } averageFeePercent coursesCompleted { key count } " +
      "cefrLevels { key count } certificates";
  }

  function filter(groupBy, extra) {
    var f = {groupBy: groupBy};
    if (state.country) { f.country = state.country; }
    if (state.cooperative) { f.cooperativeId = state.cooperative; }
    if (state.from) { f.fromMonth = state.from; }
    if (state.to) { f.toMonth = state.to; }
    Object.keys(extra || {}).forEach(function (k) {
      if (extra[k] === null) { delete f[k]; } else { f[k] = extra[k]; }
    });
    return f;
  }

  /* One request for every chart: aliases of federationStats with their own filters. */
  function dashboardQuery() {
    var variables = {
      corridors: filter("CORRIDOR"),
      places: filter(state.country ? "COOPERATIVE" : "COUNTRY"),
      months: filter("MONTH"),
      // a running total needs every month before the period too
      growth: filter("MONTH", {fromMonth: null})
    };
    var parts = [
      "corridors: federationStats(filter: $corridors) { minCell cells { ...Cell } }",
      "places: federationStats(filter: $places) { cells { ...Cell } }",
      "months: federationStats(filter: $months) { cells { ...Cell } }",
      "growth: federationStats(filter: $growth) { cells { key suppressed joined left } }",
      "everywhere: federationStats(filter: {groupBy: CORRIDOR}) { cells { key } }",
      "hosts: federationStats(filter: {groupBy: COUNTRY}) { cells { key } }"
    ];
    var declared = ["$corridors: StatsFilter", "$places: StatsFilter", "$months: StatsFilter",
                    "$growth: StatsFilter"];
    if (state.features.gender) {
      GENDERS.forEach(function (g) {
        variables[g[0]] = filter("MONTH", {fromMonth: null, gender: g[0]});
        declared.push("$" + g[0] + ": StatsFilter");
        parts.push(g[0] + ": federationStats(filter: $" + g[0] +
                   ") { cells { key suppressed joined left } }");
      });
    }
    var query = "query Dashboard(" + declared.join(", ") + ") {\n  " + parts.join("\n  ") +
                "\n}\nfragment Cell on StatsCell { " + cellFields() + " }";
    return {query: query, variables: variables};
  }

  /* A gateway without a newer field or filter answers with a validation error naming it:
   * switch that feature off and ask again. */
  function degrade(error) {
    var text = error.message || "";
    if (state.features.returns && /returnedHome|arrivedHome/.test(text)) {
      state.features.returns = false; return true;
    }
    if (state.features.gender && /gender/i.test(text)) {
      state.features.gender = false; return true;
    }
    if (state.features.active && /activeMembers/.test(text)) {
      state.features.active = false; return true;
    }
    return false;
  }

  function fetchFigures() {
    var q = dashboardQuery();
    return cb.graphql(q.query, q.variables).catch(function (error) {
      if (error instanceof cb.GraphQLError && degrade(error)) { return fetchFigures(); }
      throw error;
    });
  }

  function fetchAll() {
    return fetchFigures().then(function (data) {
      return fetchTurnout().then(function (turnout) { data.turnout = turnout; return data; });
    }).then(function (data) {
      return fetchInsurance().then(function (products) { data.insurance = products; return data; });
    });
  }

  var INSURANCE = "query Insurance { insuranceProducts { productId withdrawn " +
    "name { text } figures { policiesIssued inForce lapsed claims approved rejected " +
    "premiumsCollected { amount currency } benefitsPaid { amount currency } lossRatio " +
    "suppressed } } }";

  /* Each insurance product's figures (issue 25): the node's, under no filter (a product is
   * the node's, not a country's or a month's); a gateway without insuranceProducts answers a
   * validation error, and the section is hidden. */
  function fetchInsurance() {
    if (!state.features.insurance) { return Promise.resolve(null); }
    return cb.graphql(INSURANCE, {}).then(function (data) {
      return data.insuranceProducts;
    }, function (error) {  // the figures above are shown all the same
      if (error instanceof cb.GraphQLError && /insuranceProducts/.test(error.message || "")) {
        state.features.insurance = false;
      }
      return null;
    });
  }

  var TURNOUT = "query Turnout($f: TurnoutFilter) { assemblyTurnout(filter: $f) { assemblies " +
    "cells { suppressed assemblyId meetingOn residence gender onRoll voted remote proxy " +
    "inPerson turnoutPercent title { text language } } } }";

  /* The assemblies' turnout: a request of its own (the figures above fill the cost limit),
   * under the country and cooperative filters (an assembly has no month to bound); a gateway
   * without assemblyTurnout answers a validation error: the section is then hidden. */
  function fetchTurnout() {
    if (!state.features.turnout) { return Promise.resolve(null); }
    var f = {groupBy: ["ASSEMBLY", "RESIDENCE", "GENDER"]};
    if (state.country) { f.country = state.country; }
    if (state.cooperative) { f.cooperativeId = state.cooperative; }
    return cb.graphql(TURNOUT, {f: f}).then(function (data) {
      return data.assemblyTurnout;
    }, function (error) {  // the figures above are shown all the same
      if (error instanceof cb.GraphQLError && /assemblyTurnout|TurnoutFilter/.test(error.message || "")) {
        state.features.turnout = false;
      }
      return null;
    });
  }

  // -- helpers --------------------------------------------------------------------------------

  function visible(cells) { return (cells || []).filter(function (c) { return !c.suppressed; }); }
  function anySuppressed(cells) { return (cells || []).some(function (c) { return c.suppressed; }); }

  function corridorLabel(key) {
    var parts = key.split("-");
    if (parts.length !== 2) { return key; }
    return cb.countryName(parts[0]) + " \u2192 " + cb.countryName(parts[1]);
  }

  function placeLabel(key) {
    if (!state.country) { return cb.countryName(key); }
    var coop = state.cooperatives[key];
    return coop ? coop.name : key;
  }

  function monthLabel(key) {
    var m = MONTH.exec(key);
    if (!m) { return key; }
    var date = new Date(Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)) - 1, 1));
    return date.toLocaleDateString("en", {month: "short", year: "numeric", timeZone: "UTC"});
  }

  /* "2025-03", "2025-06" -> ["2025-03", "2025-04", "2025-05", "2025-06"] */
  function everyMonth(first, last) {
    if (!first || !last) { return []; }
    var months = [], year = Number(first.slice(0, 4)), month = Number(first.slice(5, 7));
    for (var guard = 0; guard < 600; guard += 1) {
      var key = year + "-" + (month < 10 ? "0" : "") + month;
      months.push(key);
      if (key >= last) { break; }
      month += 1;
      if (month > 12) { month = 1; year += 1; }
    }
    return months;
  }

  function currencies(cells, field) {
    var seen = {};
    cells.forEach(function (c) { (c[field] || []).forEach(function (m) { seen[m.currency] = true; }); });
    return Object.keys(seen).sort();
  }

  function amountIn(list, currency) {
    var found = (list || []).filter(function (m) { return m.currency === currency; })[0];
    return found ? Number(found.amount) : 0;
  }

  function moneyList(list) {
    return (list || []).map(cb.money).join(", ") || "0";
  }

  function sumCounts(cells, field) {
    var total = {};
    cells.forEach(function (c) {
      (c[field] || []).forEach(function (x) { total[x.key] = (total[x.key] || 0) + x.count; });
    });
    return total;
  }

  // -- tables ---------------------------------------------------------------------------------

  function setText(node, text) {
    if (node.textContent !== text) { node.textContent = text; }
  }

  function setClass(node, name) {
    if (node.className !== name) { node.className = name; }
  }

  /* Makes `wanted` the children of `parent`, in that order, moving no node already in place. */
  function arrange(parent, wanted) {
    wanted.forEach(function (node, i) {
      if (parent.children[i] !== node) { parent.insertBefore(node, parent.children[i] || null); }
    });
    while (parent.children.length > wanted.length) { parent.removeChild(parent.lastElementChild); }
  }

  /* A row's cells, one per column (keyed by data-field), each kept and rewritten only if its
   * text changed. */
  function syncRow(tr, columns, texts, head) {
    var cells = {};
    Array.prototype.forEach.call(tr.children, function (cell) {
      cells[cell.getAttribute("data-field")] = cell;
    });
    arrange(tr, columns.map(function (c, i) {
      var tag = head || i === 0 ? "th" : "td", cell = cells[c.field];
      if (!cell || cell.tagName.toLowerCase() !== tag) {
        cell = el(tag, {"data-field": c.field, scope: tag === "th" ? (head ? "col" : "row") : null});
      }
      setClass(cell, i ? "num" : "");
      setText(cell, texts[i]);
      return cell;
    }));
  }

  /* A table of a chart's figures: columns [{field, label}], rows [{key, label, values}].
   * Every cell carries data-field, every row data-key: the numbers as the gateway sent them.
   * Updated in place (rows by key, cells by field), so its scroll position, the keyboard focus
   * on it and a screen reader's place in it survive a redraw. */
  function renderTable(containerId, testid, caption, columns, rows, notes) {
    var container = document.getElementById(containerId);
    var scroll = container.querySelector(".table-scroll"), empty = container.querySelector(".empty");
    if (!rows.length) {
      if (scroll) { container.removeChild(scroll); }
      if (!empty) {
        container.insertBefore(el("p", {className: "empty", "data-testid": testid + "-empty",
                                        text: "No figures for this selection."}),
                               container.firstChild);
      }
    } else {
      if (empty) { container.removeChild(empty); }
      if (!scroll) {
        scroll = el("div", {className: "table-scroll", tabindex: "0", role: "region"}, [
          el("table", {"data-testid": testid}, [
            el("caption", {className: "sr-only"}), el("thead", {}, [el("tr")]), el("tbody")])]);
        container.insertBefore(scroll, container.firstChild);
      }
      scroll.setAttribute("aria-label", caption);
      var table = scroll.querySelector("table");
      setText(table.caption, caption);
      syncRow(table.tHead.rows[0], columns, columns.map(function (c) { return c.label; }), true);
      var byKey = {};
      Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
        byKey[tr.getAttribute("data-key")] = tr;
      });
      arrange(table.tBodies[0], rows.map(function (row) {
        var tr = byKey[row.key] || el("tr", {"data-key": row.key});
        setClass(tr, row.suppressed ? "suppressed" : "");
        syncRow(tr, columns, columns.map(function (c) {
          var value = row.values[c.field];
          return value === undefined || value === null ? "" : String(value);
        }));
        return tr;
      }));
    }
    var said = Array.prototype.map.call(container.querySelectorAll(".note"),
                                        function (p) { return p.textContent; });
    if (said.join("\n") !== (notes || []).join("\n")) {
      Array.prototype.forEach.call(container.querySelectorAll(".note"),
                                   function (p) { container.removeChild(p); });
      (notes || []).forEach(function (note) {
        container.appendChild(el("p", {className: "note", text: note}));
      });
    }
  }

  var SMALL_NOTE = "Figures about fewer than 5 people (of one cooperative, nationality and " +
                   "gender, in a month) count nowhere, and rows with nothing else are merged " +
                   "into one row and not drawn, so that no one can be singled out.";

  // -- charts ---------------------------------------------------------------------------------

  /* Draws the chart on the canvas `id`-canvas, or updates the one drawn there (in place: the
   * canvas, and anything focused near it, stays). */
  function draw(id, config) {
    var options = Object.assign({
      responsive: true, maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : {duration: 400},
      plugins: {legend: {display: config.data.datasets.length > 1, position: "bottom",
                         labels: {boxWidth: 14, boxHeight: 14}}}
    }, config.options || {});
    var chart = state.charts[id];
    if (chart) {
      chart.data = config.data;
      chart.options = options;
      chart.update();
      return;
    }
    config.options = options;
    state.charts[id] = new window.Chart(document.getElementById(id + "-canvas"), config);
  }

  /* The bars of series i: its colour, hatched after the first series, and outlined in its
   * colour (so a bar's edge keeps 3:1 against white). */
  function bars(i, extra) {
    var color = PALETTE[i % PALETTE.length], hatch = HATCHES[i % HATCHES.length];
    var fill = color;
    if (hatch) {
      if (!state.patterns[i]) {
        var tile = document.createElement("canvas");
        tile.width = tile.height = 10;
        var g = tile.getContext("2d");
        g.fillStyle = color;
        g.fillRect(0, 0, 10, 10);
        g.strokeStyle = "rgba(255, 255, 255, 0.85)";
        g.lineWidth = 2.5;
        g.beginPath();
        hatch.forEach(function (l) { g.moveTo(l[0], l[1]); g.lineTo(l[2], l[3]); });
        g.stroke();
        state.patterns[i] = g.createPattern(tile, "repeat");
      }
      fill = state.patterns[i];
    }
    return Object.assign({backgroundColor: fill, borderColor: color, borderWidth: 1.5,
                          borderRadius: 4, borderSkipped: false}, extra);
  }

  /* The line of series i: the first dark and dashed, then a colour, a dash and a point shape
   * each (the legend shows the shapes). */
  function line(i, extra) {
    var color = i === 0 ? "#1d2b3a" : PALETTE[(i - 1) % PALETTE.length];
    var style = LINES[i % LINES.length];
    return Object.assign({borderColor: color, backgroundColor: color, borderWidth: i === 0 ? 3 : 2,
                          borderDash: style[0], pointStyle: style[1], pointRadius: 4,
                          pointHoverRadius: 6}, extra);
  }

  function drawCorridors(data) {
    var cells = data.corridors.cells, shown = visible(cells);
    // a bar per corridor, each given room to be read (CSSOM, which the policy allows)
    document.getElementById("corridors-canvas").parentNode.style.height =
      Math.max(150, 70 + 40 * shown.length) + "px";
    draw("corridors", {
      type: "bar",
      data: {labels: shown.map(function (c) { return corridorLabel(c.key); }),
             datasets: [bars(0, {label: "Members", maxBarThickness: 28,
                                 data: shown.map(function (c) { return c.members; })})]},
      options: {indexAxis: "y", scales: {x: {beginAtZero: true, ticks: {precision: 0},
                                              title: {display: true, text: "members"}}}}
    });
    var rows = shown.map(function (c) {
      return {key: c.key, values: {corridor: corridorLabel(c.key), members: c.members,
                                   joined: c.joined, left: c.left, sent: c.remittancesSent,
                                   volume: moneyList(c.remittanceVolume)}};
    });
    if (anySuppressed(cells)) {
      rows.push({key: "*", suppressed: true, values: {
        corridor: "Smaller corridors, merged", members: FEWER, joined: HIDDEN, left: HIDDEN,
        sent: HIDDEN, volume: HIDDEN}});
    }
    renderTable("corridors-numbers", "corridors-table", "Members per corridor",
                [{field: "corridor", label: "Corridor"}, {field: "members", label: "Members"},
                 {field: "joined", label: "Joined"}, {field: "left", label: "Left"},
                 {field: "sent", label: "Remittances"}, {field: "volume", label: "Amount sent"}],
                rows, anySuppressed(cells) ? [SMALL_NOTE] : []);
  }

  /* Running totals (joined - left) per series, over the months any series shows; a month a
   * series does not show (no one, or fewer than 5 people) leaves a gap in that series. */
  function drawMembers(data) {
    var series = [{id: "growth", label: "All members", style: 0}];
    if (state.features.gender) {
      GENDERS.forEach(function (g, i) {  // each gender keeps its line whoever is shown
        if (data[g[0]] && visible(data[g[0]].cells).length) {
          series.push({id: g[0], label: g[1], style: i + 1});
        }
      });
    }
    var months = {};
    series.forEach(function (s) {
      visible(data[s.id].cells).forEach(function (c) { months[c.key] = true; });
    });
    var all = Object.keys(months).sort();
    var shownMonths = all.filter(function (m) {
      return (!state.from || m >= state.from) && (!state.to || m <= state.to);
    });
    var suppressed = false;
    series.forEach(function (s) {
      var byMonth = {}, total = 0;
      visible(data[s.id].cells).forEach(function (c) { byMonth[c.key] = c; });
      suppressed = suppressed || anySuppressed(data[s.id].cells);
      s.points = {};
      all.forEach(function (m) {
        var c = byMonth[m];
        if (!c) { return; }
        total += c.joined - c.left;
        s.points[m] = {joined: c.joined, left: c.left, total: total};
      });
    });
    // the axis runs through every calendar month; a total holds until its next change
    var axis = everyMonth(shownMonths[0], shownMonths[shownMonths.length - 1]);
    draw("members", {
      type: "line",
      data: {labels: axis.map(monthLabel), datasets: series.map(function (s) {
        return line(s.style, {label: s.label, spanGaps: true, stepped: "before",
                        data: axis.map(function (m) { return s.points[m] ? s.points[m].total : null; })});
      })},
      options: {scales: {y: {beginAtZero: true, ticks: {precision: 0},
                             title: {display: true, text: "members"}},
                         x: {ticks: {autoSkip: true, maxRotation: 0}}},
                plugins: {legend: {position: "bottom",
                                   labels: {usePointStyle: true, pointStyleWidth: 18}}}}
    });
    document.getElementById("members-explain").textContent = state.features.gender
      ? "Running total of members (joined minus left) each month, all and by gender."
      : "Running total of members (joined minus left) each month.";
    var columns = [{field: "month", label: "Month"}].concat(series.map(function (s) {
      return {field: s.id, label: s.label + ": total (joined, left)"};
    }));
    var rows = shownMonths.map(function (m) {
      var values = {month: monthLabel(m)};
      series.forEach(function (s) {
        var p = s.points[m];
        values[s.id] = p ? p.total + " (+" + p.joined + ", \u2212" + p.left + ")" : "\u2014";
      });
      return {key: m, values: values};
    });
    renderTable("members-numbers", "members-table", "Members over time", columns, rows,
                suppressed ? ["Months in which fewer than 5 people of a group were active are " +
                              "not shown (\u2014) and left out of that group's running total, so " +
                              "a group's total can be lower than its real number of members."] : []);
  }

  /* A chart per currency in the card `id` (amounts in different currencies never share an
   * axis): a canvas `id`-CODE-canvas under a heading, made or removed as currencies come and
   * go, each tied to the card's explanation and table. */
  function perCurrency(id, codes, label) {
    var box = document.getElementById(id + "-charts"), figures = {};
    Array.prototype.forEach.call(box.children, function (figure) {
      var code = figure.getAttribute("data-currency");
      figures[code] = figure;
      if (codes.indexOf(code) < 0 && state.charts[id + "-" + code]) {
        state.charts[id + "-" + code].destroy();
        delete state.charts[id + "-" + code];
      }
    });
    arrange(box, codes.map(function (code) {
      var figure = figures[code] || el("div", {className: "currency", "data-currency": code}, [
        el("h3", {text: "In " + code}),
        el("div", {className: "canvas"}, [
          el("canvas", {id: id + "-" + code + "-canvas", role: "img",
                        "aria-describedby": id + "-explain", "aria-details": id + "-numbers"})])]);
      figure.querySelector("canvas").setAttribute("aria-label", label(code));
      return figure;
    }));
  }

  function drawSavings(data) {
    var cells = data.places.cells, shown = visible(cells);
    var period = Boolean(state.from || state.to);
    var field = period ? "deposits" : "savingsBalance";
    var what = period ? "Deposits in the period" : "Savings balances today";
    var by = state.country ? "cooperative" : "country of the cooperative";
    setText(document.getElementById("savings-explain"),
            what + ", by " + by + ", one chart per currency.");
    var codes = currencies(shown, field);
    perCurrency("savings", codes, function (code) {
      return what + " in " + code + ", by " + by + " (figures in the table below)";
    });
    codes.forEach(function (code, i) {
      var holding = shown.filter(function (c) {
        return (c[field] || []).some(function (m) { return m.currency === code; });
      });
      draw("savings-" + code, {
        type: "bar",
        data: {labels: holding.map(function (c) { return placeLabel(c.key); }),
               datasets: [bars(i, {label: code, maxBarThickness: 48, data: holding.map(function (c) {
                 return amountIn(c[field], code);
               })})]},
        options: {scales: {y: {beginAtZero: true, title: {display: true, text: code}}}}
      });
    });
    var rows = shown.map(function (c) {
      return {key: c.key, values: {place: placeLabel(c.key), members: c.members,
                                   balance: moneyList(c.savingsBalance), deposits: moneyList(c.deposits)}};
    });
    if (anySuppressed(cells)) {
      rows.push({key: "*", suppressed: true, values: {place: "Smaller groups, merged",
                 members: FEWER, balance: HIDDEN, deposits: HIDDEN}});
    }
    var columns = [{field: "place", label: state.country ? "Cooperative" : "Country"},
                   {field: "members", label: "Members"}];
    if (!period) { columns.push({field: "balance", label: "Savings balance"}); }
    columns.push({field: "deposits", label: period ? "Deposits in the period" : "Deposits"});
    renderTable("savings-numbers", "savings-table", what, columns, rows,
                anySuppressed(cells) ? [SMALL_NOTE] : []);
  }

  function drawRemittances(data) {
    var cells = data.months.cells;
    var shown = visible(cells).filter(function (c) { return c.remittancesSent > 0; });
    var codes = currencies(shown, "remittanceVolume");
    var scales = {fee: {beginAtZero: true, position: "right", grid: {drawOnChartArea: false},
                        title: {display: true, text: "average fee %"}}};
    var datasets = codes.map(function (code, i) {  // an axis per currency, as for savings
      scales["sent-" + code] = {beginAtZero: true, position: "left",
                                grid: {drawOnChartArea: i === 0},
                                title: {display: true, text: "sent (" + code + ")"}};
      return bars(i, {type: "bar", label: "Sent (" + code + ")", yAxisID: "sent-" + code,
                      order: 2, maxBarThickness: 40,
                      data: shown.map(function (c) { return amountIn(c.remittanceVolume, code); })});
    });
    datasets.push({type: "line", label: "Average fee %", yAxisID: "fee", order: 1,
                   borderColor: PALETTE[5], backgroundColor: PALETTE[5], pointRadius: 4,
                   pointStyle: "rectRot", borderDash: [4, 3], tension: 0.2,
                   data: shown.map(function (c) {
                     return c.averageFeePercent === null ? null : Number(c.averageFeePercent);
                   })});
    draw("remittances", {
      type: "bar",
      data: {labels: shown.map(function (c) { return monthLabel(c.key); }), datasets: datasets},
      options: {scales: scales}
    });
    var rows = shown.map(function (c) {
      return {key: c.key, values: {month: monthLabel(c.key), sent: c.remittancesSent,
                                   volume: moneyList(c.remittanceVolume),
                                   fee: c.averageFeePercent === null ? "\u2014" : c.averageFeePercent + "%"}};
    });
    if (anySuppressed(cells)) {
      rows.push({key: "*", suppressed: true, values: {month: "Other months, merged",
                 sent: FEWER, volume: HIDDEN, fee: HIDDEN}});
    }
    renderTable("remittances-numbers", "remittances-table", "Remittances per month",
                [{field: "month", label: "Month"}, {field: "sent", label: "Remittances"},
                 {field: "volume", label: "Amount sent"}, {field: "fee", label: "Average fee"}],
                rows, anySuppressed(cells)
                  ? ["Months in which fewer than 5 people were active are merged and not drawn."] : []);
  }

  function drawTraining(data) {
    var cells = data.places.cells, shown = visible(cells);
    var kinds = sumCounts(shown, "coursesCompleted");
    var kindKeys = Object.keys(kinds).sort();
    draw("training", {
      type: "bar",
      data: {labels: kindKeys.map(function (k) { return KINDS[k] || k; }),
             datasets: [bars(0, {label: "Courses completed", borderColor: PALETTE[2],
                                 backgroundColor: PALETTE[2], maxBarThickness: 48,
                                 data: kindKeys.map(function (k) { return kinds[k]; })})]},
      options: {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
    });
    var note = anySuppressed(cells)
      ? ["Totals over the groups shown; groups of fewer than 5 people are not counted."] : [];
    renderTable("training-numbers", "training-table", "Courses completed by kind",
                [{field: "kind", label: "Kind of course"}, {field: "completed", label: "Completed"}],
                kindKeys.map(function (k) {
                  return {key: k, values: {kind: KINDS[k] || k, completed: kinds[k]}};
                }), note);

    var levels = sumCounts(shown, "cefrLevels");
    var levelKeys = CEFR.filter(function (l) { return levels[l]; })
      .concat(Object.keys(levels).filter(function (l) { return CEFR.indexOf(l) < 0; }));
    draw("cefr", {
      type: "bar",
      data: {labels: levelKeys, datasets: [bars(0, {label: "Certificates", borderColor: PALETTE[4],
                                                    backgroundColor: PALETTE[4], maxBarThickness: 48,
                                                    data: levelKeys.map(function (l) { return levels[l]; })})]},
      options: {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
    });
    renderTable("cefr-numbers", "cefr-table", "Certificates by CEFR level",
                [{field: "level", label: "CEFR level"}, {field: "certificates", label: "Certificates"}],
                levelKeys.map(function (l) {
                  return {key: l, values: {level: l, certificates: levels[l]}};
                }), note);
  }

  function drawReturns(data) {
    var section = document.querySelector("[data-testid=chart-returns]");
    if (!state.features.returns) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    var cells = data.months.cells;
    var shown = visible(cells).filter(function (c) { return c.returnedHome || c.arrivedHome; });
    draw("returns", {
      type: "bar",
      data: {labels: shown.map(function (c) { return monthLabel(c.key); }), datasets: [
        bars(1, {label: "Returned home", maxBarThickness: 40,
                 data: shown.map(function (c) { return c.returnedHome; })}),
        bars(0, {label: "Arrived home with a record", maxBarThickness: 40,
                 data: shown.map(function (c) { return c.arrivedHome; })})]},
      options: {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
    });
    var rows = shown.map(function (c) {
      return {key: c.key, values: {month: monthLabel(c.key), returned: c.returnedHome,
                                   arrived: c.arrivedHome}};
    });
    if (anySuppressed(cells)) {
      rows.push({key: "*", suppressed: true, values: {month: "Other months, merged",
                 returned: FEWER, arrived: FEWER}});
    }
    renderTable("returns-numbers", "returns-table", "Returns home per month",
                [{field: "month", label: "Month"}, {field: "returned", label: "Returned home"},
                 {field: "arrived", label: "Arrived home"}], rows,
                anySuppressed(cells)
                  ? ["Months in which fewer than 5 people were active are merged and not drawn."] : []);
  }

  function genderLabel(key) {
    var found = GENDERS.filter(function (g) { return g[0] === key; })[0];
    return found ? found[1] : key;
  }

  /* A table only: a row per assembly, country of residence and gender (sums of atoms of at
   * least 5 people on a roll), the held-back ones in one row. */
  function drawTurnout(data) {
    var section = document.querySelector("[data-testid=chart-turnout]");
    if (!data.turnout) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    var cells = data.turnout.cells;
    var rows = visible(cells).map(function (c) {
      return {key: [c.assemblyId, c.residence, c.gender].join("/"), values: {
        assembly: (c.title ? c.title.text : c.assemblyId) + " (" + c.meetingOn + ")",
        residence: cb.countryName(c.residence), gender: genderLabel(c.gender),
        roll: c.onRoll, voted: c.voted, turnout: c.turnoutPercent + " %", remote: c.remote,
        proxy: c.proxy, inPerson: c.inPerson}};
    });
    if (anySuppressed(cells)) {
      rows.push({key: "*", suppressed: true, values: {assembly: "Others, held back",
                 residence: "", gender: "", roll: HIDDEN, voted: "", turnout: "", remote: "",
                 proxy: "", inPerson: ""}});
    }
    var notes = ["Assemblies count here once their voting has closed (" +
                 data.turnout.assemblies + " so far). Where fewer than 5 people on a roll " +
                 "live in one country and share a gender, they count in no row, and neither " +
                 "do as many others as it takes that no one can be singled out."];
    renderTable("turnout-numbers", "turnout-table", "Assembly turnout",
                [{field: "assembly", label: "Assembly"}, {field: "residence", label: "Lives in"},
                 {field: "gender", label: "Gender"}, {field: "roll", label: "On the roll"},
                 {field: "voted", label: "Voted"}, {field: "turnout", label: "Turnout"},
                 {field: "remote", label: "Voted remotely"}, {field: "proxy", label: "By proxy"},
                 {field: "inPerson", label: "In person"}], rows, notes);
  }

  /* A table only: a row per insurance product with figures this token may read; a figure
   * about fewer than 5 policies or claims reads "not shown" (so does any figure it would
   * give away by subtraction, as the gateway decides). */
  function drawInsurance(data) {
    var section = document.querySelector("[data-testid=chart-insurance]");
    var products = (data.insurance || []).filter(function (p) { return p.figures; });
    if (!products.length) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    function shown(value) { return value === null || value === undefined ? HIDDEN : value; }
    var rows = products.map(function (p) {
      var f = p.figures;
      return {key: p.productId, suppressed: f.suppressed, values: {
        product: (p.name ? p.name.text : p.productId) + (p.withdrawn ? " (withdrawn)" : ""),
        issued: shown(f.policiesIssued), inForce: shown(f.inForce), lapsed: shown(f.lapsed),
        claims: shown(f.claims), approved: shown(f.approved),
        premiums: f.premiumsCollected ? cb.money(f.premiumsCollected) : HIDDEN,
        paid: f.benefitsPaid ? cb.money(f.benefitsPaid) : HIDDEN,
        lossRatio: f.lossRatio === null ? (f.premiumsCollected ? "\u2014" : HIDDEN)
                                        : f.lossRatio}};
    });
    renderTable("insurance-numbers", "insurance-table", "Insurance",
                [{field: "product", label: "Product"}, {field: "issued", label: "Policies issued"},
                 {field: "inForce", label: "In force"}, {field: "lapsed", label: "Lapsed"},
                 {field: "claims", label: "Claims"}, {field: "approved", label: "Approved"},
                 {field: "premiums", label: "Premiums collected"},
                 {field: "paid", label: "Benefits paid"}, {field: "lossRatio", label: "Loss ratio"}],
                rows, ["Figures of this node's insurers' products, whatever the filters above. " +
                       "A figure about fewer than 5 policies or claims is not shown, nor is one " +
                       "that would give such a figure away."]);
  }

  /* The tiles, updated in place like the tables. Members: those active today (a stock) with
   * the joined and left beside them; with a period (which bounds flows only), or from a
   * gateway without activeMembers, the members the figures count. */
  function drawOverview(data) {
    var shown = visible(data.places.cells);
    function total(field) {
      return shown.reduce(function (sum, c) { return sum + (c[field] || 0); }, 0);
    }
    var period = Boolean(state.from || state.to), today = state.features.active && !period;
    var tiles = [
      {key: "members", value: total(today ? "activeMembers" : "members"),
       label: today ? "Active members today" : period ? "Members active in the period"
                                                      : "Members who ever joined",
       beside: [["joined", total("joined")], ["left", total("left")]],
       after: period ? " in the period" : ""},
      {key: "corridors", label: "Corridors shown", value: visible(data.corridors.cells).length},
      {key: "remittances", label: "Remittances sent", value: total("remittancesSent")},
      {key: "certificates", label: "Certificates issued", value: total("certificates")}
    ];
    var container = document.getElementById("overview"), found = {};
    Array.prototype.forEach.call(container.children, function (tile) {
      found[tile.getAttribute("data-testid")] = tile;
    });
    arrange(container, tiles.map(function (t) {
      var tile = found["tile-" + t.key] || el("div", {className: "tile", "data-testid": "tile-" + t.key}, [
        el("span", {className: "tile-value"}), el("span", {className: "tile-label"})]);
      setText(tile.querySelector(".tile-value"), String(t.value));
      setText(tile.querySelector(".tile-label"), t.label);
      if (t.beside) {  // "12 joined · 3 left", each figure in its own element
        var detail = tile.querySelector(".tile-detail") ||
          tile.appendChild(el("span", {className: "tile-detail"}));
        var said = t.beside.map(function (b) { return b[1] + " " + b[0]; }).join(" \u00b7 ") + t.after;
        if (detail.textContent !== said) {
          detail.textContent = "";
          t.beside.forEach(function (b, i) {
            detail.appendChild(document.createTextNode(i ? " \u00b7 " : ""));
            detail.appendChild(el("strong", {"data-field": b[0], text: String(b[1])}));
            detail.appendChild(document.createTextNode(" " + b[0]));
          });
          detail.appendChild(document.createTextNode(t.after));
        }
      }
      return tile;
    }));
    container.hidden = false;
  }

  // -- filters --------------------------------------------------------------------------------

  function updateCountries(data) {
    var found = {};
    visible(data.hosts.cells).forEach(function (c) { found[c.key] = true; });
    visible(data.everywhere.cells).forEach(function (c) {
      c.key.split("-").forEach(function (code) { if (/^[A-Z]{2}$/.test(code)) { found[code] = true; } });
    });
    if (state.country) { found[state.country] = true; }
    var codes = Object.keys(found).sort();
    if (codes.join() === state.countries.join()) { return; }
    state.countries = codes;
    var select = document.getElementById("filter-country");
    select.textContent = "";
    select.appendChild(el("option", {value: "", text: "All countries"}));
    codes.forEach(function (code) {
      select.appendChild(el("option", {value: code, text: cb.countryName(code),
                                       selected: code === state.country}));
    });
    follow();
  }

  function loadCooperatives() {
    var select = document.getElementById("filter-cooperative");
    var hint = document.getElementById("cooperative-hint");
    select.textContent = "";
    select.appendChild(el("option", {value: "", text: "All cooperatives"}));
    state.cooperatives = {};
    if (!state.country) {
      select.disabled = true;
      hint.hidden = false;
      return Promise.resolve();
    }
    return cb.graphql("query($c: String!) { cooperatives(country: $c) { id name } }",
                      {c: state.country}).then(function (data) {
      data.cooperatives.slice().sort(function (a, b) { return a.name.localeCompare(b.name); })
        .forEach(function (coop) {
          state.cooperatives[coop.id] = coop;
          select.appendChild(el("option", {value: coop.id, text: coop.name,
                                           selected: coop.id === state.cooperative}));
        });
      select.disabled = false;
      hint.hidden = true;
    });
  }

  function readFilters() {
    var from = document.getElementById("filter-from"), to = document.getElementById("filter-to");
    var fromValue = MONTH.test(from.value) ? from.value : "";
    var toValue = MONTH.test(to.value) ? to.value : "";
    from.setAttribute("aria-invalid", from.value && !fromValue ? "true" : "false");
    to.setAttribute("aria-invalid", to.value && !toValue ? "true" : "false");
    state.from = fromValue;
    state.to = toValue;
  }

  function wireFilters() {
    var country = document.getElementById("filter-country");
    var cooperative = document.getElementById("filter-cooperative");
    country.addEventListener("change", function () {
      state.country = country.value;
      state.cooperative = "";
      loadCooperatives().then(refresh, showError);
    });
    cooperative.addEventListener("change", function () {
      state.cooperative = cooperative.value;
      refresh();
    });
    ["filter-from", "filter-to"].forEach(function (id) {
      ["input", "change"].forEach(function (kind) {
        document.getElementById(id).addEventListener(kind, function () {
          var before = state.from + "|" + state.to;
          readFilters();
          if (state.from + "|" + state.to !== before) { refresh(); }
        });
      });
    });
    document.getElementById("filter-reset").addEventListener("click", function () {
      document.getElementById("filter-from").value = "";
      document.getElementById("filter-to").value = "";
      country.value = "";
      state.country = state.cooperative = state.from = state.to = "";
      loadCooperatives().then(refresh, showError);
    });
    document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  }

  // -- refreshing -----------------------------------------------------------------------------

  function setStatus(text, kind) {
    var status = document.getElementById("status");
    status.textContent = text;
    status.className = "status" + (kind ? " " + kind : "");
  }

  function showError(error) {
    var text = error && error.message ? error.message : String(error);
    setStatus("Could not load the figures: " + text, "error");
    document.body.setAttribute("data-state", "error");
  }

  /* One refresh at a time; a refresh asked for meanwhile runs once after it. A live one
   * (`live`: after events) says nothing in the status region: the announcer sums them up. */
  function refresh(live) {
    if (state.inFlight) { state.again = live && state.again !== "asked" ? "live" : "asked"; return; }
    state.inFlight = true;
    document.body.setAttribute("data-state", "loading");
    if (!live) { setStatus("Loading\u2026"); }
    var events = state.events;
    var asked = JSON.stringify({country: state.country, cooperative: state.cooperative,
                                from: state.from, to: state.to});
    fetchAll().then(function (data) {
      if (data.corridors === null) {
        throw new Error("this token may not read the federation's figures " +
                        "(an analyst's or the node admin's token is needed)");
      }
      updateCountries(data);
      drawOverview(data);
      drawCorridors(data);
      drawMembers(data);
      drawSavings(data);
      drawRemittances(data);
      drawTraining(data);
      drawReturns(data);
      drawTurnout(data);
      drawInsurance(data);
      document.getElementById("charts").hidden = false;
      state.renders += 1;
      document.body.setAttribute("data-renders", String(state.renders));
      document.body.setAttribute("data-filters", asked);  // what the figures shown answer
      document.body.setAttribute("data-state", "ready");
      if (!live || document.getElementById("status").classList.contains("error")) {
        setStatus("Showing " + (state.country ? cb.countryName(state.country) : "all countries") +
                  (state.from || state.to ? " \u00b7 " + (state.from || "\u2026") + " to " + (state.to || "\u2026") : ""));
      }
      state.drawnAt = new Date().toLocaleTimeString("en-GB");
      liveText();
      if (events > state.eventsDrawn) { announce("", events - state.eventsDrawn); }
      state.eventsDrawn = events;
    }).catch(showError).then(function () {
      state.inFlight = false;
      var again = state.again;
      state.again = "";
      if (again) { refresh(again === "live"); }
    });
  }

  /* A live redraw 1.5 s after the first event, however many follow (they are many while a
   * federation is busy, so waiting for a quiet moment could wait forever). */
  function refreshSoon() {
    if (state.pending) { return; }
    state.pending = window.setTimeout(function () { state.pending = null; refresh(true); }, 1500);
  }

  /* What a screen reader hears of the live updates: a change of connection and how many
   * events the figures now include, in one sentence at most every ANNOUNCE_EVERY ms. */
  var heard = {at: 0, timer: null, connection: "", events: 0};

  function announce(connection, events) {
    if (connection) { heard.connection = connection; }
    heard.events += events;
    if (heard.timer) { return; }
    heard.timer = window.setTimeout(function () {
      var words = [heard.connection];
      if (heard.events) {
        words.push("Figures updated with " + heard.events + " new event" +
                   (heard.events === 1 ? "" : "s") + ".");
      }
      heard.timer = null;
      heard.at = Date.now();
      heard.connection = "";
      heard.events = 0;
      setText(document.getElementById("live-announce"), words.join(" ").trim());
    }, Math.max(0, heard.at + ANNOUNCE_EVERY - Date.now()));
  }

  // -- live updates ---------------------------------------------------------------------------

  var SUBSCRIPTION = "subscription($c: String!) { federationActivity(country: $c) " +
                     "{ total events { type count } } }";

  /* The event type a window had most of. */
  function mostly(events) {
    return events.reduce(function (top, e) { return !top || e.count > top.count ? e : top; },
                         null).type;
  }

  /* One websocket, a federationActivity subscription per known country; a window without
   * counts (a quiet one, or one with fewer than 5 people behind its events) changes nothing. */
  function follow() {
    var countries = state.countries.slice();
    var key = countries.join();
    if (key === state.liveKey) { return; }
    state.liveKey = key;
    if (state.live) { state.live.close(); state.live = null; liveText("Not connected", "off"); }
    if (!countries.length) { return; }
    state.live = cb.live(countries.map(function (c) {
      return {query: SUBSCRIPTION, variables: {c: c}};
    }), function (data) {
      var activity = data.federationActivity;
      if (!activity.total) { return; }
      state.events += activity.total;
      state.eventWords = "Live \u00b7 " + state.events + " new event" +
        (state.events === 1 ? "" : "s") + " (mostly " + mostly(activity.events) + ")";
      liveText(state.eventWords);
      document.body.setAttribute("data-events", String(state.events));
      refreshSoon();
    }, function (what) {
      if (what === "live") {
        liveText(state.eventWords || "Live", "connected");
        announce("Live updates on.", 0);
      } else if (what === "connecting") {
        liveText("Connecting\u2026", "connecting");
      } else if (what === "error") {
        liveText("Live updates refused by the gateway", "error");
        announce("Live updates refused by the gateway.", 0);
      } else {
        liveText("Live updates paused, reconnecting", "offline");
        announce("Live updates paused, reconnecting.", 0);
      }
    });
  }

  /* The live line in the header (not a live region: it changes with every event): its words
   * (kept when none are given), the time of the figures shown, and the connection (`kind`,
   * the dot's colour: green only while "connected"). */
  function liveText(words, kind) {
    if (words) { state.liveWords = words; }
    if (kind) { document.querySelector("[data-testid=live-status]").setAttribute("data-live", kind); }
    setText(document.getElementById("live-text"), (state.liveWords || "Not connected") +
            (state.drawnAt ? " \u00b7 updated " + state.drawnAt : ""));
  }

  // -- start ----------------------------------------------------------------------------------

  function start() {
    document.getElementById("token-panel").hidden = true;
    document.getElementById("filters").hidden = false;
    document.getElementById("forget-token").hidden = false;
    refresh();
  }

  function askForToken() {
    document.getElementById("token-panel").hidden = false;
    cb.tokenForm(document.getElementById("token-form-slot"), start,
                 "An analyst's or the node admin's bearer token (coopbridge token --role analyst). " +
                 "It stays in this browser tab only.");
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.Chart) {
      window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      window.Chart.defaults.color = "#3b4754";
    }
    cb.fragment();
    wireFilters();
    document.getElementById("forget-token").addEventListener("click", function () {
      cb.setToken(null);
      if (state.live) { state.live.close(); state.live = null; state.liveKey = ""; }
      window.location.reload();
    });
    if (cb.token()) { start(); } else { askForToken(); }
  });
}());
