// GraphiQL playground for the conecrm gateway. Bundled by build.mjs into
// ../dist (committed); served by playground.Handler at /playground.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import './main.css';

// Same-origin endpoint; no subscriptions URL, so nothing else is contacted.
const fetcher = createGraphiQLFetcher({ url: '/graphql' });

const defaultHeaders = `{"Authorization": "Bearer <paste token>"}`;

const defaultQuery = `# conecrm GraphQL playground.
# Paste a token into the Headers tab below, then run (Ctrl-Enter).
# Get one with: conecrm token --email <you>
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
