// GraphiQL playground for the conecrm gateway. Bundled by build.mjs into
// ../dist (committed); served by playground.Handler at /playground.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import './main.css';


// A token in the URL fragment (/playground#token=…, as the server prints at
// startup in development) goes into the headers before the first request,
// so the schema loads at once; the fragment is then dropped from the address
// bar. Fragments are never sent to a server, so the token stays out of logs.
function tokenFromFragment() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token) {
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return token;
}

const token = tokenFromFragment();
const defaultHeaders = JSON.stringify({ Authorization: `Bearer ${token || '<paste token>'}` });

// Same-origin endpoints only: /graphql over HTTP, and the same path over a
// websocket (ws: or wss: as the page) for subscriptions, which graphql-ws
// speaks (graphql-transport-ws). GraphiQL introspects before its headers
// editor exists, so the fragment's token is also the fetcher's default
// header: the schema (docs, completion) loads with the page. Headers in the
// editor override it. A subscription sends the same headers in its
// connection_init ({"Authorization": "Bearer …"}; the toolkit merges the
// editor's headers over wsConnectionParams), since a browser cannot put
// headers on a websocket upgrade. After pasting a token by hand, refetch
// the schema with the ↻ button (or Shift-Ctrl-R).
const auth = token ? { Authorization: `Bearer ${token}` } : undefined;
const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  subscriptionUrl: `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`,
  headers: auth,
  wsConnectionParams: auth,
});

const defaultQuery = `# conecrm GraphQL playground.
# Paste a token into the Headers tab below (or open /playground#token=…),
# then run (Ctrl-Enter). Get one with: conecrm token --email <you>
# Subscriptions run too, over a websocket, e.g.
#   subscription { recordChanged(types: ["lead"]) { topic recordId } }
{
  accounts(first: 5) {
    edges {
      node {
        id
        name
        contacts {
          id
          firstName
          accounts {
            id
            name
          }
        }
      }
    }
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={defaultQuery}
    defaultHeaders={defaultHeaders}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
    // Headers (tokens) stay out of localStorage; queries/tabs are kept there only.
    shouldPersistHeaders={false}
  >
    {/* Replaces the default logo, which links out to github.com. */}
    <GraphiQL.Logo>conecrm</GraphiQL.Logo>
  </GraphiQL>,
);
