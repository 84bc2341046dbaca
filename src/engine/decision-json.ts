// The JSON text of evaluate and check answers, built by hand: what fast-json-stringify
// makes of the routes' response schemas (server/schemas/evaluate.ts) for the common
// answers, byte for byte, at a fraction of its cost. The lists answers share and never change — a path plan's document keys, a
// parsed path's namespaces — are serialized once. Answers with parts the schema
// serializer filters (trace, grantedBy, conditionErrors, messages) or orders around
// `decisionId` (stale) are left to it.

import type { CheckResponse, EvaluateResponse } from '../core/request.js';

/** JSON of lists owned by a plan or the path memo: neither is ever changed once built (both are readonly). */
const sharedLists = new WeakMap<readonly string[], string>();

/** `list` as JSON, remembered by identity: only for lists that are never changed (see sharedLists). */
export function sharedListJson(list: readonly string[]): string {
  let text = sharedLists.get(list);
  if (text === undefined) {
    text = JSON.stringify(list);
    sharedLists.set(list, text);
  }
  return text;
}

/** The JSON of already-serialized lists, when the caller has them (else the response's own are serialized). */
export interface ListTexts {
  namespaces?: string;
  policies?: string;
}

/**
 * An evaluate answer (required properties in schema order; `decisionId` comes after them)
 * as JSON without its closing brace, for the route to end with
 * `,"decisionId":"…"}`; undefined when the schema serializer must render it.
 */
export function evaluateBodyOpen(r: EvaluateResponse, lists: ListTexts = {}): string | undefined {
  if (r.stale !== undefined || r.trace !== undefined || r.grantedBy !== undefined || r.conditionErrors !== undefined || r.messages !== undefined) return undefined;
  return `{"permissions":${JSON.stringify(r.permissions)},"denied":${JSON.stringify(r.denied)},"default":${r.default ? 'true' : 'false'}`
    + `,"namespaces":${lists.namespaces ?? JSON.stringify(r.namespaces)},"policies":${lists.policies ?? JSON.stringify(r.policies)}`
    + `,"cached":${r.cached ? 'true' : 'false'},"revision":${JSON.stringify(r.revision)},"exact":${r.exact ? 'true' : 'false'}`;
}

/**
 * A check answer of one permission with no reason (the schema's order: `decisionId`
 * first, no property is required); undefined when the schema serializer must render it.
 */
export function checkBodyText(decisionId: string, r: CheckResponse): string | undefined {
  if (r.allowed === undefined || r.reason !== undefined || r.results !== undefined || r.reasons !== undefined) return undefined;
  return `{"decisionId":${JSON.stringify(decisionId)},"allowed":${r.allowed ? 'true' : 'false'},"cached":${r.cached ? 'true' : 'false'}`
    + `,"revision":${JSON.stringify(r.revision)}${r.stale === undefined ? '' : r.stale ? ',"stale":true' : ',"stale":false'}}`;
}
