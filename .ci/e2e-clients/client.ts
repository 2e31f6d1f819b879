// A typed GraphQL client as a front end would write it: the operation types
// come from graphql-codegen (gen/graphql.ts), so tsc checks every field and
// variable against the served schema. Run against the server by `make e2e`.
import type {
  AccountsPageQuery, AccountsPageQueryVariables,
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
    total = page.accounts.totalCount;
    for (const edge of page.accounts.edges ?? []) {
      seen++;
      if (edge?.node?.id === account.id) found = true;
    }
    if (!page.accounts.pageInfo.hasNextPage) break;
    after = page.accounts.pageInfo.endCursor;
  }
  check(found && seen === total, `paged ${seen} of ${total} accounts, new one found: ${found}`);

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
