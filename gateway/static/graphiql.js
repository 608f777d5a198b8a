/* GraphiQL on /graphql, in development mode: React, ReactDOM and GraphiQL come from this
 * gateway (/static/vendor), never from a CDN, so it works offline and under the pages'
 * Content-Security-Policy.
 *
 * Queries and mutations are POSTed to this address with the headers of GraphiQL's headers
 * editor; subscriptions go over graphql-transport-ws to the same address, those headers being
 * the connection_init payload (where the gateway looks for "Authorization"). A token given
 * as #token=... (as the dashboard takes it) fills the headers editor and leaves the address
 * bar at once.
 */
(function () {
  "use strict";

  var EXAMPLE = [
    "# GraphiQL for this coopbridge node (development mode).",
    "# Put a bearer token in the Headers tab below: {\"Authorization\": \"Bearer ...\"}",
    "# (coopbridge token --role analyst prints one). Ctrl-Enter runs the query.",
    "# (Unnamed: GraphiQL would send a replaced query's old name for a moment.)",
    "",
    "{",
    "  cooperatives(country: \"ES\") {",
    "    id",
    "    name",
    "    kind",
    "  }",
    "}",
    ""
  ].join("\n");

  coopbridge.fragment();  // takes #token=... out of the address bar, into sessionStorage
  var bearer = coopbridge.token();
  var headers = bearer ? JSON.stringify({Authorization: "Bearer " + bearer}, null, 2) : undefined;

  var address = window.location.origin + "/graphql";
  var fetcher = GraphiQL.createFetcher({
    url: address,
    subscriptionUrl: address.replace(/^http/, "ws")
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: EXAMPLE,
    headers: headers,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: bearer ? "headers" : true,
    inputValueDeprecation: true
  }));
}());
