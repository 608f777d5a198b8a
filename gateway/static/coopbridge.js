/* coopbridge pages: what the dashboard and the printable record share.
 *
 * - the bearer token: read from the URL fragment (#token=..., which browsers never send to
 *   the server), or pasted; kept in sessionStorage (this tab only) and removed from the
 *   address bar at once;
 * - GraphQL over HTTP (POST /graphql);
 * - GraphQL subscriptions over graphql-transport-ws (the token in connection_init), with
 *   reconnection;
 * - small formatting helpers that never round a figure the gateway sent.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "coopbridge.token";

  /* The fragment's parameters (#a=1&b=2); "token" is taken out of the address bar. */
  function fragment() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var token = params.get("token");
    if (token) {
      try { window.sessionStorage.setItem(STORAGE_KEY, token.trim()); } catch (e) { /* private mode */ }
      params.delete("token");
      var rest = params.toString();
      window.history.replaceState(null, "", window.location.pathname + window.location.search +
                                  (rest ? "#" + rest : ""));
    }
    return params;
  }

  function token() {
    try { return window.sessionStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }

  function setToken(value) {
    try {
      if (value) { window.sessionStorage.setItem(STORAGE_KEY, value.trim()); }
      else { window.sessionStorage.removeItem(STORAGE_KEY); }
    } catch (e) { /* private mode: the token lives as long as the page */ }
  }

  function GraphQLError(errors) {
    this.name = "GraphQLError";
    this.errors = errors || [];
    this.message = this.errors.map(function (e) { return e.message; }).join("; ") || "request failed";
  }
  GraphQLError.prototype = Object.create(Error.prototype);

  /* POST a query; resolves with its data, rejects with a GraphQLError. */
  function graphql(query, variables) {
    var headers = {"content-type": "application/json", "accept": "application/json"};
    var bearer = token();
    if (bearer) { headers.authorization = "Bearer " + bearer; }
    return window.fetch("/graphql", {
      method: "POST", headers: headers, credentials: "omit", cache: "no-store",
      body: JSON.stringify({query: query, variables: variables || {}})
    }).then(function (response) {
      return response.json().catch(function () {
        throw new GraphQLError([{message: "the gateway answered " + response.status}]);
      });
    }).then(function (body) {
      if (body.errors && body.errors.length) { throw new GraphQLError(body.errors); }
      return body.data;
    });
  }

  /* A graphql-transport-ws connection that subscribes to `subscriptions` (a list of
   * {query, variables}) and calls onEvent(data) for each "next". Reconnects with a growing
   * pause; onState(text) tells what it is doing. Returns {close()}. */
  function live(subscriptions, onEvent, onState) {
    var socket = null, closed = false, pause = 1000, timer = null;
    var url = (window.location.protocol === "https:" ? "wss://" : "ws://") +
              window.location.host + "/graphql";

    function connect() {
      if (closed) { return; }
      onState("connecting");
      socket = new window.WebSocket(url, "graphql-transport-ws");
      socket.onopen = function () {
        socket.send(JSON.stringify({type: "connection_init",
                                    payload: {Authorization: "Bearer " + (token() || "")}}));
      };
      socket.onmessage = function (message) {
        var frame;
        try { frame = JSON.parse(message.data); } catch (e) { return; }
        if (frame.type === "connection_ack") {
          pause = 1000;
          onState("live");
          subscriptions.forEach(function (s, i) {
            socket.send(JSON.stringify({id: String(i + 1), type: "subscribe",
                                        payload: {query: s.query, variables: s.variables || {}}}));
          });
        } else if (frame.type === "ping") {
          socket.send(JSON.stringify({type: "pong"}));
        } else if (frame.type === "next" && frame.payload && frame.payload.data) {
          onEvent(frame.payload.data);
        } else if (frame.type === "error") {
          onState("error");
        }
      };
      socket.onclose = function () {
        if (closed) { return; }
        onState("offline");
        timer = window.setTimeout(connect, pause);
        pause = Math.min(pause * 2, 30000);
      };
    }

    connect();
    return {
      close: function () {
        closed = true;
        if (timer) { window.clearTimeout(timer); }
        if (socket) { socket.close(1000, "done"); }
      }
    };
  }

  /* "1234567.50" -> "1,234,567.50": digits grouped, never rounded. */
  function groupDigits(decimal) {
    var text = String(decimal), sign = "";
    if (text.charAt(0) === "-") { sign = "-"; text = text.slice(1); }
    var parts = text.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + parts.join(".");
  }

  function money(m) {
    return m ? groupDigits(m.amount) + "\u00a0" + m.currency : "";
  }

  var regionNames = null;
  try { regionNames = new Intl.DisplayNames(["en"], {type: "region"}); } catch (e) { regionNames = null; }

  function countryName(code) {
    if (!code || !/^[A-Z]{2}$/.test(code)) { return code || ""; }
    var name = null;
    try { name = regionNames ? regionNames.of(code) : null; } catch (e) { name = null; }
    return name && name !== code ? name + " (" + code + ")" : code;
  }

  /* An element with attributes and children; text is always text (never parsed as HTML). */
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      var value = attributes[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { node.textContent = value; }
      else if (key === "className") { node.className = value; }
      else { node.setAttribute(key, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /* A <form> that asks for a token, for when the page was opened without one. */
  function tokenForm(container, onToken, hint) {
    container.textContent = "";
    var field = el("textarea", {id: "token-input", rows: "3", spellcheck: "false",
                                autocomplete: "off", "aria-describedby": "token-hint",
                                "data-testid": "token-input"});
    var form = el("form", {className: "token-form", "data-testid": "token-form"}, [
      el("label", {"for": "token-input", text: "Access token"}),
      field,
      el("p", {id: "token-hint", className: "hint", text: hint}),
      el("button", {type: "submit", text: "Use this token"})
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = field.value.replace(/^\s*bearer\s+/i, "").trim();
      if (!value) { field.focus(); return; }
      setToken(value);
      onToken();
    });
    container.appendChild(form);
    field.focus();
  }

  window.coopbridge = {
    fragment: fragment, token: token, setToken: setToken, graphql: graphql, live: live,
    GraphQLError: GraphQLError, groupDigits: groupDigits, money: money,
    countryName: countryName, el: el, tokenForm: tokenForm
  };
}());
