// The query-plan differential harness (SPEC §11), shared by the test suite
// (test/engine/plan-differential.test.ts) and the nightly-style script
// (scripts/plan-differential.ts): random policy sets over several namespaces
// (conditions over subject, context and resource attributes; grant / revoke / deny in
// random order; ids with no documents), random rows stored in PostgreSQL and FerretDB;
// the rows `SELECT … WHERE plan.sql` and `find(plan.mongo)` return must be exactly the
// rows the decision function (what /v1/check answers) allows.

import fc from 'fast-check';
import pg from 'pg';
import type { Db } from 'mongodb';
import { compile, localPlanner } from '../core/plan/helpers.js';
import type { PlanResponse } from '../../src/engine/plan-service.js';

export interface Row {
  _id: string;
  org: string;
  status?: string;
  n?: number;
  owner?: string;
  tags?: string[];
  secret?: boolean;
}

export interface Doc {
  key: string;
  namespace: string;
  ordinal?: number;
  disabled?: boolean;
  rules: Array<{ subjects: readonly string[]; when?: string; grant?: string[]; revoke?: string[]; deny?: string[] }>;
}

export interface Case {
  docs: Doc[];
  subject: { id: string; roles: string[]; groups: string[]; attributes: Record<string, unknown> };
  context: Record<string, unknown>;
  /** the path asked: a wildcard over orgs, or one org's path */
  namespace: string;
  rowSet: number;
}

export const ORGS = ['o1', 'o2', 'o3', 'o4'];
/** namespaces that may hold documents (o3 and o4 never do: ids with no documents) */
const NAMESPACES = ['global', 'org', 'org:o1', 'org:o2'];
export const FIELDS = { id: '_id', 'namespace.org': 'org', 'attributes.tags': { column: 'tags', type: 'array' as const } };

// ---- rows

const rowArb = (i: number) => fc.record({
  org: fc.constantFrom(...ORGS),
  status: fc.option(fc.constantFrom('draft', 'published', 'archived', 'Zed', 'ärger'), { nil: undefined }),
  n: fc.option(fc.integer({ min: -3, max: 12 }), { nil: undefined }),
  owner: fc.option(fc.constantFrom('user:alice', 'user:bob', 'user:carol'), { nil: undefined }),
  tags: fc.option(fc.uniqueArray(fc.constantFrom('x', 'y', 'z'), { maxLength: 3 }), { nil: undefined }),
  secret: fc.option(fc.boolean(), { nil: undefined }),
}, { requiredKeys: ['org'] }).map((r) => {
  const row: Row = { _id: `r${i}`, org: r.org };
  for (const k of ['status', 'n', 'owner', 'tags', 'secret'] as const) if (r[k] !== undefined) (row as unknown as Record<string, unknown>)[k] = r[k];
  return row;
});

/** `sets` row sets of `size` rows each, the same for a seed. */
export function rowSets(sets: number, size: number, seed: number): Row[][] {
  return Array.from({ length: sets }, (_, s) => Array.from({ length: size }, (_, i) => fc.sample(rowArb(i), { numRuns: 1, seed: seed * 1000 + s * size + i })[0]!));
}

// ---- conditions

const resourceAtom = fc.oneof(
  fc.constantFrom('draft', 'published', 'archived', 'Zed').map((s) => `resource.attributes.status == '${s}'`),
  fc.constantFrom('draft', 'published').map((s) => `resource.attributes.status != '${s}'`),
  fc.constantFrom('draft', 'published', 'Zed').map((s) => `resource.attributes.status < '${s}'`),
  fc.tuple(fc.constantFrom('<', '<=', '>', '>=', '==', '!='), fc.integer({ min: -2, max: 11 })).map(([op, k]) => `resource.attributes.n ${op} ${k}`),
  fc.tuple(fc.constantFrom('<', '>='), fc.integer({ min: 0, max: 9 })).map(([op, k]) => `${k} ${op} resource.attributes.n`),
  fc.uniqueArray(fc.constantFrom('draft', 'published', 'archived'), { maxLength: 3 }).map((l) => `resource.attributes.status in [${l.map((s) => `'${s}'`).join(', ')}]`),
  fc.constant('resource.attributes.owner == subject.id'),
  fc.constant('subject.id == resource.attributes.owner'),
  fc.constantFrom('x', 'y').map((s) => `'${s}' in resource.attributes.tags`),
  fc.constantFrom('n', 'owner', 'tags', 'secret').map((f) => `has(resource.attributes.${f})`),
  fc.constant('resource.attributes.secret'),
  fc.constant('resource.attributes.secret == false'),
  fc.integer({ min: 0, max: 12 }).map((i) => `resource.id == 'r${i}'`),
  fc.constant("resource.attributes.n in [1, 2, 3]"),
  fc.constant("resource.attributes.status == context.wanted"),
);

const inputAtom = fc.oneof(
  fc.integer({ min: 0, max: 23 }).map((h) => `context.hour >= ${h}`),
  fc.integer({ min: 0, max: 3 }).map((l) => `subject.attributes.level > ${l}`),
  fc.constant('context.flag'),
  fc.constantFrom('a', 'b').map((d) => `subject.attributes.dept == '${d}'`),
  fc.constant('context.missing == 1'),
  fc.constant("'editor' in subject.roles"),
  fc.constant('true'),
  fc.constant('false'),
);

const conditionArb: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: resourceAtom },
    { weight: 2, arbitrary: inputAtom },
    { weight: 1, arbitrary: tie('expr').map((e) => `!(${e})`) },
    { weight: 2, arbitrary: fc.tuple(tie('expr'), fc.constantFrom('&&', '||'), tie('expr')).map(([a, op, b]) => `(${a}) ${op} (${b})`) },
    { weight: 1, arbitrary: fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, a, b]) => `(${c}) ? (${a}) : (${b})`) },
  ),
})).expr as fc.Arbitrary<string>;

const patternArb = fc.constantFrom('document:read', 'document:read', 'document:*', '*', 'document:write', 'billing:*');
const ruleArb = fc.record({
  subjects: fc.constantFrom(['*'], ['*'], ['role:editor'], ['user:alice'], ['group:team'], ['user:bob']),
  when: fc.option(conditionArb, { nil: undefined, freq: 3 }),
  effect: fc.constantFrom('grant', 'grant', 'revoke', 'deny'),
  pattern: patternArb,
}).map(({ subjects, when, effect, pattern }) => ({ subjects, ...(when !== undefined ? { when } : {}), [effect]: [pattern] }));

const docArb = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  ordinal: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
});

export const caseArb: fc.Arbitrary<Case> = fc.record({
  docs: fc.array(fc.tuple(docArb, fc.boolean()), { minLength: 0, maxLength: 5 }).map((list) => list.map(([d, disabled], i) => ({
    key: `${d.namespace}-d${i}`, namespace: d.namespace,
    ...(d.ordinal !== undefined ? { ordinal: d.ordinal } : {}),
    // a disabled document now and then: it does not run but counts as present
    ...(disabled && i % 3 === 2 ? { disabled: true } : {}),
    rules: d.rules,
  }))),
  subject: fc.record({
    id: fc.constantFrom('user:alice', 'user:bob'),
    roles: fc.subarray(['editor', 'viewer']),
    groups: fc.subarray(['team']),
    attributes: fc.record({ level: fc.integer({ min: 0, max: 3 }), dept: fc.constantFrom('a', 'b') }),
  }),
  context: fc.record({ hour: fc.integer({ min: 0, max: 23 }), flag: fc.boolean(), wanted: fc.constantFrom('draft', 'published') }),
  namespace: fc.constantFrom('global.org.org:*', 'global.org.org:*', 'global.org.org:o1', 'global.org.org:o3', 'org:*'),
  rowSet: fc.nat(),
});

// ---- one case

export interface Planned {
  plan: PlanResponse;
  /** ids of the row set's rows check allows */
  expected: string[];
  /** only rows in the path asked (a path naming one org covers that org's rows) */
  rows: Row[];
}

function resourceOf(row: Row) {
  const attributes: Record<string, unknown> = {};
  for (const k of ['status', 'n', 'owner', 'tags', 'secret'] as const) if (row[k] !== undefined) attributes[k] = row[k];
  return { type: 'document', id: row._id, attributes };
}

export function planCase(c: Case, sets: Row[][]): Planned {
  const planner = localPlanner(compile(...c.docs.map((d) => JSON.stringify(d))));
  const req = { subject: c.subject, namespace: c.namespace, permission: 'document:read', resource: { type: 'document' }, context: c.context, fields: FIELDS };
  const plan = planner.plan(req);
  const all = sets[c.rowSet % sets.length]!;
  const wildcard = c.namespace.endsWith(':*');
  const fixedOrg = wildcard ? undefined : c.namespace.split(':').pop()!;
  const rows = fixedOrg ? all.filter((r) => r.org === fixedOrg) : all;
  const prefix = c.namespace.slice(0, -'org:*'.length);
  const expected = rows.filter((row) => planner.check({
    subject: c.subject, context: c.context, permission: 'document:read', resource: resourceOf(row),
    namespace: wildcard ? `${prefix}org:${row.org}` : c.namespace,
  })).map((r) => r._id).sort();
  return { plan, expected, rows };
}

// ---- the databases

export class PgRows {
  private constructor(private readonly client: pg.Client, readonly table: string) {}

  static async open(sets: Row[][]): Promise<PgRows> {
    const client = new pg.Client({ host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), database: process.env.PGDATABASE ?? 'test', user: process.env.PGUSER ?? 'postgres' });
    await client.connect();
    const table = `plan_rows_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await client.query(`CREATE TABLE "${table}" (rs int NOT NULL, _id text NOT NULL, org text NOT NULL, status text, n int, owner text, tags text[], secret boolean)`);
    const values: unknown[] = [];
    const tuples: string[] = [];
    sets.forEach((rows, rs) => {
      for (const r of rows) {
        const base = values.length;
        values.push(rs, r._id, r.org, r.status ?? null, r.n ?? null, r.owner ?? null, r.tags ?? null, r.secret ?? null);
        tuples.push(`(${Array.from({ length: 8 }, (_, i) => `$${base + i + 1}`).join(', ')})`);
      }
    });
    for (let i = 0; i < tuples.length; i += 500) {
      const chunk = tuples.slice(i, i + 500);
      const first = i * 8;
      const renumbered = chunk.map((t) => t.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) - first}`));
      await client.query(`INSERT INTO "${table}" VALUES ${renumbered.join(', ')}`, values.slice(first, first + chunk.length * 8));
    }
    return new PgRows(client, table);
  }

  /** The ids each plan's WHERE selects from its row set (and org, for a path naming one), in one round trip. */
  async select(items: Array<{ plan: PlanResponse; rowSet: number; org?: string }>): Promise<string[][]> {
    if (items.length === 0) return [];
    const params: unknown[] = [];
    const parts = items.map((it, k) => {
      const offset = params.length;
      params.push(...it.plan.sql.params);
      const where = it.plan.sql.where.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
      params.push(it.rowSet);
      let scope = `rs = $${params.length}`;
      if (it.org !== undefined) {
        params.push(it.org);
        scope += ` AND org = $${params.length}`;
      }
      return `SELECT ${k} AS k, _id FROM "${this.table}" WHERE ${scope} AND (${where})`;
    });
    const r = await this.client.query<{ k: number; _id: string }>(parts.join(' UNION ALL '), params);
    const out: string[][] = items.map(() => []);
    for (const row of r.rows) out[row.k]!.push(row._id);
    return out.map((ids) => ids.sort());
  }

  async close(): Promise<void> {
    try {
      await this.client.query(`DROP TABLE IF EXISTS "${this.table}"`);
    } finally {
      await this.client.end();
    }
  }
}

export async function storeMongoRows(db: Db, sets: Row[][]): Promise<void> {
  for (let s = 0; s < sets.length; s++) await db.collection<Row>(`rows${s}`).insertMany(sets[s]!.map((r) => ({ ...r })));
}

export async function mongoSelect(db: Db, plan: PlanResponse, rowSet: number, org: string | undefined): Promise<string[]> {
  const filter = org === undefined ? plan.mongo : { $and: [{ org }, plan.mongo] };
  const docs = await db.collection<Row>(`rows${rowSet}`).find(filter as never, { projection: { _id: 1 } }).toArray();
  return docs.map((d) => String(d._id)).sort();
}

export function orgOf(c: Case): string | undefined {
  return c.namespace.endsWith(':*') ? undefined : c.namespace.split(':').pop();
}

// ---- the property, batched

export interface DifferentialOptions {
  cases: number;
  seed: number;
  rowSets?: number;
  rows?: number;
  /** query FerretDB for every case (the nightly script), not the first of each batch */
  mongoEveryCase?: boolean;
  batchSize?: number;
}

export interface DifferentialCounts {
  cases: number;
  mongoCases: number;
  conditional: number;
}

/**
 * Batches of random cases: each batch is one PostgreSQL round trip (a UNION ALL of its
 * cases) and FerretDB queries for its first case (FerretDB answers a find in tens of ms
 * here) or for all; a failing batch shrinks to a minimal case (fast-check).
 */
export async function runDifferential(db: Db, o: DifferentialOptions): Promise<DifferentialCounts> {
  const ROW_SETS = o.rowSets ?? 4;
  const sets: Row[][] = rowSets(ROW_SETS, o.rows ?? 200, o.seed % 1000);
  await storeMongoRows(db, sets);
  const pgRows = await PgRows.open(sets);
  const counts = { cases: 0, mongoCases: 0, conditional: 0 };
  const batchSize = o.batchSize ?? 50;
  try {
    const property = fc.asyncProperty(fc.array(caseArb, { minLength: 1, maxLength: batchSize, size: 'max' }), async (batch: Case[]) => {
      const planned = batch.map((c) => planCase(c, sets));
      const selected = await pgRows.select(batch.map((c, i) => ({ plan: planned[i]!.plan, rowSet: c.rowSet % ROW_SETS, org: orgOf(c) })));
      for (let i = 0; i < batch.length; i++) {
        const p = planned[i]!;
        if (p.plan.kind === 'conditional') counts.conditional++;
        if (JSON.stringify(selected[i]) !== JSON.stringify(p.expected)) {
          throw new Error(`PostgreSQL selected ${JSON.stringify(selected[i])}, check allows ${JSON.stringify(p.expected)}\nsql: ${JSON.stringify(p.plan.sql)}`);
        }
      }
      counts.cases += batch.length;
      const viaMongo = o.mongoEveryCase || batch.length <= 3 ? batch.length : 1;
      for (let i = 0; i < viaMongo; i++) {
        const found = await mongoSelect(db, planned[i]!.plan, batch[i]!.rowSet % ROW_SETS, orgOf(batch[i]!));
        counts.mongoCases++;
        if (JSON.stringify(found) !== JSON.stringify(planned[i]!.expected)) {
          throw new Error(`FerretDB found ${JSON.stringify(found)}, check allows ${JSON.stringify(planned[i]!.expected)}\nmongo: ${JSON.stringify(planned[i]!.plan.mongo)}`);
        }
      }
    });
    // batches average about half their bound: run until the count is reached
    let seed = o.seed;
    while (counts.cases < o.cases) {
      const left = o.cases - counts.cases;
      await fc.assert(property, { numRuns: Math.max(1, Math.ceil(left / (batchSize * 0.55))), seed: seed++ });
    }
  } finally {
    await pgRows.close();
  }
  return counts;
}
