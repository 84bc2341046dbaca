// The running service, as push and export see it: a client (src/client) and the
// whole list of stored policies, page by page.

import { Option } from '@commander-js/extra-typings';
import { PolicyEngineClient, type PolicySummary } from '../client/index.js';

export const urlOption = () => new Option('--url <url>', 'the service, e.g. http://127.0.0.1:8080').env('POLICY_ENGINE_URL').makeOptionMandatory();
export const tokenOption = () => new Option('--token <token>', 'the bearer token: ADMIN_TOKEN of the service, or its READ_TOKEN for reads').env('POLICY_ENGINE_TOKEN');

export function clientFor(url: string, token?: string): PolicyEngineClient {
  return new PolicyEngineClient({ baseUrl: url, adminToken: token, timeoutMs: 15_000 });
}

export async function listAllPolicies(client: PolicyEngineClient): Promise<PolicySummary[]> {
  const out: PolicySummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listPolicies({ limit: 500, ...(cursor !== undefined ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor !== undefined);
  return out;
}
