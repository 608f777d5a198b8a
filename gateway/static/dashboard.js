/* The federation dashboard: charts and tables of federationStats, filtered by country,
 * cooperative and period, redrawn when the federation's activity arrives (a subscription
 * to federationActivity per country). Suppressed cells (fewer than 5 people) are shown as
 * such, never as a number; every chart has a table of the exact figures the gateway sent.
 */
(function () {
  "use strict";

  var cb = window.coopbridge, el = cb.el;
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#6B6B6B"];
  var GENDERS = [["female", "Women"], ["male", "Men"], ["other", "Other"], ["unstated", "Not stated"]];
  var KINDS = {language: "Language", vocational: "Vocational", business_start_up: "Business start-up",
               financial_literacy: "Financial literacy", governance: "Governance"};
  var CEFR = ["A1", "A2", "B1", "B2", "C1", "C2"];
  var FEWER = "fewer than 5 each";
  var HIDDEN = "not shown";
  var MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

  var state = {
    country: "", cooperative: "", from: "", to: "",
    features: {gender: true, returns: true},  // switched off if this gateway lacks them
    charts: {}, cooperatives: {}, countries: [], live: null, liveKey: "", renders: 0,
    pending: null, inFlight: false, again: false, events: 0
  };

  // -- queries --------------------------------------------------------------------------------

  function cellFields() {
    return "key suppressed members joined left " +
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
    return false;
  }

  function fetchAll() {
    var q = dashboardQuery();
    return cb.graphql(q.query, q.variables).catch(function (error) {
      if (error instanceof cb.GraphQLError && degrade(error)) { return fetchAll(); }
      throw error;
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

  /* A table of a chart's figures: columns [{field, label}], rows [{key, label, values}].
   * Every cell carries data-field, every row data-key: the numbers as the gateway sent them. */
  function renderTable(containerId, testid, caption, columns, rows, notes) {
    var container = document.getElementById(containerId);
    container.textContent = "";
    if (!rows.length) {
      container.appendChild(el("p", {className: "empty", "data-testid": testid + "-empty",
                                     text: "No figures for this selection."}));
    } else {
      var head = el("tr", {}, columns.map(function (c, i) {
        return el("th", {scope: "col", className: i ? "num" : null, text: c.label});
      }));
      var body = rows.map(function (row) {
        return el("tr", {"data-key": row.key, className: row.suppressed ? "suppressed" : null},
                  columns.map(function (c, i) {
                    var value = row.values[c.field];
                    var text = value === undefined || value === null ? "" : String(value);
                    return i === 0
                      ? el("th", {scope: "row", "data-field": c.field, text: text})
                      : el("td", {className: "num", "data-field": c.field, text: text});
                  }));
      });
      container.appendChild(el("div", {className: "table-scroll", tabindex: "0",
                                        role: "region", "aria-label": caption}, [
        el("table", {"data-testid": testid}, [
          el("caption", {className: "sr-only", text: caption}),
          el("thead", {}, [head]),
          el("tbody", {}, body)
        ])
      ]));
    }
    (notes || []).forEach(function (note) {
      container.appendChild(el("p", {className: "note", text: note}));
    });
  }

  var SMALL_NOTE = "Groups of fewer than 5 people are merged into one row and not drawn, " +
                   "so that no one can be singled out.";

  // -- charts ---------------------------------------------------------------------------------

  function draw(id, config) {
    var canvas = document.getElementById(id + "-canvas");
    if (state.charts[id]) { state.charts[id].destroy(); }
    config.options = Object.assign({
      responsive: true, maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : {duration: 400},
      plugins: {legend: {display: config.data.datasets.length > 1, position: "bottom",
                         labels: {boxWidth: 12, boxHeight: 12}}}
    }, config.options || {});
    state.charts[id] = new window.Chart(canvas, config);
  }

  function drawCorridors(data) {
    var cells = data.corridors.cells, shown = visible(cells);
    // a bar per corridor, each given room to be read (CSSOM, which the policy allows)
    document.getElementById("corridors-canvas").parentNode.style.height =
      Math.max(150, 70 + 40 * shown.length) + "px";
    draw("corridors", {
      type: "bar",
      data: {labels: shown.map(function (c) { return corridorLabel(c.key); }),
             datasets: [{label: "Members", data: shown.map(function (c) { return c.members; }),
                         backgroundColor: PALETTE[0], borderRadius: 4, maxBarThickness: 28}]},
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
    var series = [{id: "growth", label: "All members"}];
    if (state.features.gender) {
      GENDERS.forEach(function (g) {
        if (data[g[0]] && visible(data[g[0]].cells).length) {
          series.push({id: g[0], label: g[1]});
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
      data: {labels: axis.map(monthLabel), datasets: series.map(function (s, i) {
        var color = i === 0 ? "#1d2b3a" : PALETTE[i - 1];
        return {label: s.label, spanGaps: true, stepped: "before", pointRadius: 3,
                pointStyle: "circle", borderWidth: i === 0 ? 3 : 2,
                borderDash: i === 0 ? [6, 4] : [], borderColor: color, backgroundColor: color,
                data: axis.map(function (m) { return s.points[m] ? s.points[m].total : null; })};
      })},
      options: {scales: {y: {beginAtZero: true, ticks: {precision: 0},
                             title: {display: true, text: "members"}},
                         x: {ticks: {autoSkip: true, maxRotation: 0}}},
                plugins: {legend: {position: "bottom",
                                   labels: {usePointStyle: true, pointStyle: "line"}}}}
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

  function drawSavings(data) {
    var cells = data.places.cells, shown = visible(cells);
    var period = Boolean(state.from || state.to);
    var field = period ? "deposits" : "savingsBalance";
    var what = period ? "Deposits in the period" : "Savings balances today";
    document.getElementById("savings-explain").textContent = what + ", by " +
      (state.country ? "cooperative." : "country of the cooperative.");
    var codes = currencies(shown, field);
    draw("savings", {
      type: "bar",
      data: {labels: shown.map(function (c) { return placeLabel(c.key); }),
             datasets: codes.map(function (code, i) {
               return {label: code, backgroundColor: PALETTE[i % PALETTE.length], borderRadius: 4,
                       maxBarThickness: 48,
                       data: shown.map(function (c) { return amountIn(c[field], code); })};
             })},
      options: {scales: {y: {beginAtZero: true, title: {display: true, text: "amount"}}}}
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
    var datasets = codes.map(function (code, i) {
      return {type: "bar", label: "Sent (" + code + ")", yAxisID: "y", order: 2,
              backgroundColor: PALETTE[i % PALETTE.length], borderRadius: 4, maxBarThickness: 40,
              data: shown.map(function (c) { return amountIn(c.remittanceVolume, code); })};
    });
    datasets.push({type: "line", label: "Average fee %", yAxisID: "fee", order: 1,
                   borderColor: PALETTE[5], backgroundColor: PALETTE[5], pointRadius: 4,
                   tension: 0.2,
                   data: shown.map(function (c) {
                     return c.averageFeePercent === null ? null : Number(c.averageFeePercent);
                   })});
    draw("remittances", {
      type: "bar",
      data: {labels: shown.map(function (c) { return monthLabel(c.key); }), datasets: datasets},
      options: {scales: {
        y: {beginAtZero: true, position: "left", title: {display: true, text: "amount sent"}},
        fee: {beginAtZero: true, position: "right", grid: {drawOnChartArea: false},
              title: {display: true, text: "average fee %"}}}}
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
             datasets: [{label: "Courses completed", backgroundColor: PALETTE[2], borderRadius: 4,
                         maxBarThickness: 48, data: kindKeys.map(function (k) { return kinds[k]; })}]},
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
      data: {labels: levelKeys, datasets: [{label: "Certificates", backgroundColor: PALETTE[4],
                                           borderRadius: 4, maxBarThickness: 48,
                                           data: levelKeys.map(function (l) { return levels[l]; })}]},
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
        {label: "Returned home", backgroundColor: PALETTE[1], borderRadius: 4, maxBarThickness: 40,
         data: shown.map(function (c) { return c.returnedHome; })},
        {label: "Arrived home with a record", backgroundColor: PALETTE[0], borderRadius: 4,
         maxBarThickness: 40, data: shown.map(function (c) { return c.arrivedHome; })}]},
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

  function drawOverview(data) {
    var shown = visible(data.places.cells);
    function total(field) {
      return shown.reduce(function (sum, c) { return sum + (c[field] || 0); }, 0);
    }
    var corridors = visible(data.corridors.cells).length;
    var tiles = [
      ["members", "Members", total("members")],
      ["corridors", "Corridors shown", corridors],
      ["remittances", "Remittances sent", total("remittancesSent")],
      ["certificates", "Certificates issued", total("certificates")]
    ];
    var container = document.getElementById("overview");
    container.textContent = "";
    tiles.forEach(function (t) {
      container.appendChild(el("div", {className: "tile", "data-testid": "tile-" + t[0]}, [
        el("span", {className: "tile-value", text: String(t[2])}),
        el("span", {className: "tile-label", text: t[1]})
      ]));
    });
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
    return cb.graphql("query($c: String!) { cooperatives(country: $c) { cooperativeId name } }",
                      {c: state.country}).then(function (data) {
      data.cooperatives.slice().sort(function (a, b) { return a.name.localeCompare(b.name); })
        .forEach(function (coop) {
          state.cooperatives[coop.cooperativeId] = coop;
          select.appendChild(el("option", {value: coop.cooperativeId, text: coop.name,
                                           selected: coop.cooperativeId === state.cooperative}));
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

  /* One refresh at a time; a refresh asked for meanwhile runs once after it. */
  function refresh() {
    if (state.inFlight) { state.again = true; return; }
    state.inFlight = true;
    document.body.setAttribute("data-state", "loading");
    setStatus("Loading\u2026");
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
      document.getElementById("charts").hidden = false;
      state.renders += 1;
      document.body.setAttribute("data-renders", String(state.renders));
      document.body.setAttribute("data-filters", asked);  // what the figures shown answer
      document.body.setAttribute("data-state", "ready");
      setStatus("Updated " + new Date().toLocaleTimeString("en-GB") +
                (state.country ? " \u00b7 " + cb.countryName(state.country) : " \u00b7 all countries") +
                (state.from || state.to ? " \u00b7 " + (state.from || "\u2026") + " to " + (state.to || "\u2026") : ""));
    }).catch(showError).then(function () {
      state.inFlight = false;
      if (state.again) { state.again = false; refresh(); }
    });
  }

  function refreshSoon() {
    if (state.pending) { window.clearTimeout(state.pending); }
    state.pending = window.setTimeout(function () { state.pending = null; refresh(); }, 1500);
  }

  // -- live updates ---------------------------------------------------------------------------

  var SUBSCRIPTION = "subscription($c: String!) { federationActivity(country: $c) { at service type } }";

  /* One websocket, a federationActivity subscription per known country. */
  function follow() {
    var countries = state.countries.slice();
    var key = countries.join();
    if (key === state.liveKey) { return; }
    state.liveKey = key;
    if (state.live) { state.live.close(); state.live = null; }
    if (!countries.length) { return; }
    state.live = cb.live(countries.map(function (c) {
      return {query: SUBSCRIPTION, variables: {c: c}};
    }), function (data) {
      var activity = data.federationActivity;
      state.events += 1;
      liveText("Live \u00b7 " + state.events + " new event" + (state.events === 1 ? "" : "s") +
               " (last: " + activity.type + ")", "live");
      document.body.setAttribute("data-events", String(state.events));
      refreshSoon();
    }, function (what) {
      if (what === "live") { liveText(state.events ? null : "Live: updates as they happen", "live"); }
      else if (what === "connecting") { liveText("Connecting\u2026", "connecting"); }
      else { liveText("Live updates paused, reconnecting", "offline"); }
    });
  }

  function liveText(text, kind) {
    var box = document.querySelector("[data-testid=live-status]");
    box.className = "live " + kind;
    if (text) { document.getElementById("live-text").textContent = text; }
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
