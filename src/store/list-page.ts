// Key-ordered, cursor-paginated listing over records held in memory, shared by the
// memory and file stores so both page exactly like the database store does.

import type { ListPage, ListQuery, PolicyRecord } from './store.js';

/** Compare keys the way MongoDB orders ASCII `_id` strings (keys are ASCII by SPEC §1). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One page of `records` (any order) matching `query`. `next` is set only when more
 * records follow, so a full last page does not cost the caller an empty extra request.
 */
export function pageOf(records: Iterable<PolicyRecord>, query: ListQuery): ListPage {
  // A non-positive limit would make no progress; treat it as one record per page.
  const limit = Math.max(1, Math.trunc(query.limit));
  const matching: PolicyRecord[] = [];
  for (const r of records) {
    if (query.namespace !== undefined && r.namespace !== query.namespace) continue;
    if (query.after !== undefined && compareKeys(r.key, query.after) <= 0) continue;
    matching.push(r);
  }
  matching.sort((a, b) => compareKeys(a.key, b.key));
  const page = matching.slice(0, limit);
  const last = page[page.length - 1];
  return matching.length > limit && last !== undefined ? { records: page, next: last.key } : { records: page };
}
