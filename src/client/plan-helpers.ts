// Running a query plan (POST /v1/plan) in the caller's own database and returning only
// authorized rows, a page at a time. With an exact plan the database does all the work
// (filter, order, skip, limit); with a partial one (`exact: false`) every candidate row
// is re-checked with POST /v1/check before it is returned (docs/plans.md).

import type { PlanRequest, PlanResponse } from '../engine/plan-service.js';
import type { PolicyEngineClient } from './client.js';

/** How a row looks to /v1/check: its id and attributes, and its namespace path. */
export interface RowResource {
  id: string;
  attributes?: Record<string, unknown>;
  /** the row's namespace path (a wildcard plan's rows live in different paths); default: the plan's */
  namespace?: string;
}

export interface AuthorizedPageOptions<Row> {
  /** the plan request (subject, namespace, permission, resource type, context, fields, allowPartial) */
  plan: PlanRequest;
  /** rows per page */
  limit: number;
  /** rows of the underlying query already consumed (the `next` of the previous page) */
  offset?: number;
  /** for re-checks of partial plans */
  toResource: (row: Row) => RowResource;
}

export interface AuthorizedPage<Row> {
  rows: Row[];
  /** the offset of the next page, or null at the end */
  next: number | null;
  plan: PlanResponse;
}

async function recheck<Row>(client: PolicyEngineClient, o: AuthorizedPageOptions<Row>, row: Row): Promise<boolean> {
  const r = o.toResource(row);
  const namespace = r.namespace ?? o.plan.namespace;
  if (namespace.includes('*')) throw new Error('toResource must give each row its namespace path when the plan names a wildcard');
  const { subject, permission, context } = o.plan;
  const answer = await client.check({ subject, namespace, permission, ...(context ? { context } : {}), resource: { type: o.plan.resource.type, id: r.id, ...(r.attributes ? { attributes: r.attributes } : {}) } });
  return answer.allowed === true;
}

/** Pages of candidate rows from `fetch(offset, limit)`, re-checked when the plan is not exact. */
async function page<Row>(client: PolicyEngineClient, o: AuthorizedPageOptions<Row>, plan: PlanResponse, fetch: (offset: number, limit: number) => Promise<Row[]>): Promise<AuthorizedPage<Row>> {
  let offset = o.offset ?? 0;
  if (plan.kind === 'never') return { rows: [], next: null, plan };
  if (plan.exact) {
    const rows = await fetch(offset, o.limit + 1);
    return { rows: rows.slice(0, o.limit), next: rows.length > o.limit ? offset + o.limit : null, plan };
  }
  const out: Row[] = [];
  const chunk = Math.max(o.limit * 2, 20);
  for (;;) {
    const rows = await fetch(offset, chunk);
    for (let i = 0; i < rows.length; i++) {
      if (await recheck(client, o, rows[i]!)) out.push(rows[i]!);
      if (out.length === o.limit) {
        const consumed = offset + i + 1;
        // one more candidate may exist: the caller asks again from here
        return { rows: out, next: i + 1 < rows.length || rows.length === chunk ? consumed : null, plan };
      }
    }
    if (rows.length < chunk) return { rows: out, next: null, plan };
    offset += rows.length;
  }
}

/** The parts of a `mongodb` Collection used here. */
export interface MongoCollectionLike<Row> {
  find(filter: Record<string, unknown>, options?: Record<string, unknown>): { skip(n: number): { limit(n: number): { toArray(): Promise<Row[]> } } };
}

/**
 * One page of authorized documents of a MongoDB collection: `filter` (yours) and the
 * plan's filter together, in `sort` order.
 */
export async function authorizedFind<Row>(
  client: PolicyEngineClient, collection: MongoCollectionLike<Row>,
  o: AuthorizedPageOptions<Row> & { filter?: Record<string, unknown>; sort?: Record<string, 1 | -1>; projection?: Record<string, unknown> },
): Promise<AuthorizedPage<Row>> {
  const plan = await client.plan(o.plan);
  const filter = o.filter && Object.keys(o.filter).length > 0 ? { $and: [o.filter, plan.mongo] } : plan.mongo;
  const options = { ...(o.sort ? { sort: o.sort } : {}), ...(o.projection ? { projection: o.projection } : {}) };
  return page(client, o, plan, (offset, limit) => collection.find(filter, options).skip(offset).limit(limit).toArray());
}

/** The part of a `pg` Client or Pool used here. */
export interface PgQueryable<Row> {
  query(text: string, params: unknown[]): Promise<{ rows: Row[] }>;
}

/**
 * One page of authorized rows from PostgreSQL: `select` is your query without WHERE
 * (`SELECT * FROM docs`), `where` an optional condition of yours with its own $n
 * parameters, `orderBy` your ORDER BY expression. Your texts are yours (code, not input);
 * the plan's part comes with parameters only.
 */
export async function authorizedQuery<Row>(
  client: PolicyEngineClient, db: PgQueryable<Row>,
  o: AuthorizedPageOptions<Row> & { select: string; where?: { text: string; params: unknown[] }; orderBy: string },
): Promise<AuthorizedPage<Row>> {
  const plan = await client.plan(o.plan);
  const params = [...(o.where?.params ?? [])];
  const shift = params.length;
  const planWhere = plan.sql.where.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + shift}`);
  params.push(...plan.sql.params);
  const where = o.where ? `(${o.where.text}) AND (${planWhere})` : planWhere;
  return page(client, o, plan, async (offset, limit) => {
    const text = `${o.select} WHERE ${where} ORDER BY ${o.orderBy} LIMIT $${params.length + 1} OFFSET $${params.length + 2}`;
    return (await db.query(text, [...params, limit, offset])).rows;
  });
}
