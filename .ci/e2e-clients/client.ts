// A typed GraphQL client as a front end would write it: the operation types
// come from graphql-codegen (gen/graphql.ts), so tsc checks every field and
// variable against the served schema. Run against the server by `make e2e`.
import type {
  AccountsPageQuery, AccountsPageQueryVariables,
  AccountCursorsQuery, AccountCursorsQueryVariables,
  CreateAccountMutation, CreateAccountMutationVariables,
  DeleteAccountMutation, DeleteAccountMutationVariables,
} from './gen/graphql';
import { readFileSync } from 'node:fs';

const BASE_URL = process.env.BASE_URL!;
const TOKEN = process.env.TOKEN!;
const documents = readFileSync(`${__dirname}/../operations.graphql`, 'utf8');

type GraphQLError = { message: string; extensions?: { code?: string } };

async function request<TData, TVars>(operationName: string, variables: TVars, token = TOKEN): Promise<TData> {
  const res = await fetch(`${BASE_URL}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: documents, operationName, variables }),
  });
  const body = (await res.json()) as { data?: TData; errors?: GraphQLError[] };
  if (body.errors?.length) {
    const e = new Error(`${operationName}: ${res.status} ${JSON.stringify(body.errors)}`) as Error & { code?: string };
    e.code = body.errors[0].extensions?.code;
    throw e;
  }
  return body.data!;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

// Fields returning records are nullable (a viewer without their read
// permission gets null and a FORBIDDEN error), so the generated types say
// `| null`; the admin reads everything.
function present<T>(v: T | null | undefined, what: string): T {
  if (v == null) throw new Error(`${what} is null`);
  return v;
}

(async () => {
  const name = `Codegen Client ${Date.now()}`;
  const created = await request<CreateAccountMutation, CreateAccountMutationVariables>(
    'CreateAccount', { input: { name, city: 'Lyon', isActive: true } });
  const account = created.createAccount;
  check(account.name === name && !Number.isNaN(Date.parse(account.dateCreated)), `created ${JSON.stringify(account)}`);

  // Page through every account with the cursors (at most 100 pages).
  let after: string | null | undefined = null;
  let seen = 0;
  let found = false;
  let total = 0;
  for (let i = 0; i < 100; i++) {
    const page: AccountsPageQuery = await request<AccountsPageQuery, AccountsPageQueryVariables>(
      'AccountsPage', { first: 50, after });
    const accounts = present(page.accounts, 'accounts');
    total = accounts.totalCount;
    for (const edge of accounts.edges ?? []) {
      seen++;
      if (edge?.node?.id === account.id) found = true;
    }
    if (!accounts.pageInfo.hasNextPage) break;
    after = accounts.pageInfo.endCursor;
  }
  check(found && seen === total, `paged ${seen} of ${total} accounts, new one found: ${found}`);

  // The same pages by pageInfo alone: the cursors come without edges.
  const withEdges = present((await request<AccountsPageQuery, AccountsPageQueryVariables>('AccountsPage', { first: 2 })).accounts, 'accounts');
  const cursors = present((await request<AccountCursorsQuery, AccountCursorsQueryVariables>('AccountCursors', { first: 2 })).accounts, 'accounts');
  check(cursors.pageInfo.endCursor != null && cursors.pageInfo.endCursor === withEdges.pageInfo.endCursor,
    `cursors without edges ${JSON.stringify(cursors.pageInfo)}, with ${JSON.stringify(withEdges.pageInfo)}`);

  // An integration's API key: created by the admin over REST (the secret is
  // shown once), used as a bearer credential, refused once revoked.
  const made = await fetch(`${BASE_URL}/api/api-key`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ name: `e2e ${Date.now()}` }),
  });
  const key = (await made.json()) as { id: string; secret: string };
  check(made.status === 201 && key.secret.startsWith('ck_'), `API key create: ${made.status}`);
  const byKey = await request<AccountsPageQuery, AccountsPageQueryVariables>('AccountsPage', { first: 1 }, key.secret);
  // The key acts as the admin: the same accounts.
  const keyTotal = present(byKey.accounts, 'accounts').totalCount;
  check(keyTotal === total, `API key saw ${keyTotal} accounts, the admin ${total}`);
  const revoked = await fetch(`${BASE_URL}/api/api-key/${key.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
  check(revoked.status === 200, `API key revoke: ${revoked.status}`);
  const afterRevoke = await request<AccountsPageQuery, AccountsPageQueryVariables>('AccountsPage', { first: 1 }, key.secret)
    .then(() => 'accepted', (e: Error & { code?: string }) => e.code);
  check(afterRevoke === 'UNAUTHENTICATED', `revoked API key answered ${afterRevoke}`);

  const deleted = await request<DeleteAccountMutation, DeleteAccountMutationVariables>('DeleteAccount', { id: account.id });
  check(deleted.deleteAccount === account.id, `deleted ${JSON.stringify(deleted)}`);

  // A bad token surfaces as the documented GraphQL error code.
  const refused = await request<AccountsPageQuery, AccountsPageQueryVariables>('AccountsPage', { first: 1 }, 'not-a-token')
    .then(() => 'accepted', (e: Error & { code?: string }) => e.code);
  check(refused === 'UNAUTHENTICATED', `bad token answered ${refused}`);
  console.log(`e2e: typed client OK (${total} accounts paged, created and deleted ${account.id})`);
})().catch((e) => {
  console.error(`e2e: FAIL: typed client: ${e.message}`);
  process.exit(1);
});
