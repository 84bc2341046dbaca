// The relationship service: what the HTTP routes, the CLI (through HTTP) and the CEL
// bridge call. Parses and validates requests against the schema, writes through the
// store, answers from the in-memory engine at a revision at least as new as asked, and
// caches answers by revision (so no answer is ever older than the state it claims).

import { flat } from '../core/flat-string.js';
import { LRUCache } from 'lru-cache';
import { Doorkeeper } from '../cache/doorkeeper.js';
import type { ParseLimits } from '../core/document/parse.js';
import type { DocumentFormat } from '../core/document/types.js';
import { RelationError } from '../core/relations/errors.js';
import { PolicyEngineError } from '../errors.js';
import type { RelationManager } from './relation-manager.js';
import { storeCall } from './store-errors.js';
import { compileSchema } from '../core/relations/schema/compile-schema.js';
import { checkFilter, checkTuple, orphanedTuples } from '../core/relations/schema/tuple-rules.js';
import {
  MAX_READ_LIMIT, batchProblem, revisionNumber,
  type Precondition, type RelationStore, type StoredSchema, type WriteBatch,
} from '../store/relation-store.js';
import {
  TupleSyntaxError, filterOf, formatObject, formatSubject, formatTuple, parseObject, parseSubject, toTupleObject, tupleOf,
  type ObjectRef, type SubjectRef, type Tuple, type TupleObject,
} from '../core/relations/tuple.js';

export type TupleInput = string | TupleObject;
export interface Consistency {
  atLeast?: string;
  fullyConsistent?: boolean;
}
export interface WriteRequest {
  writes?: TupleInput[];
  deletes?: TupleInput[];
  preconditions?: Array<{ mustExist?: TupleInput; mustNotExist?: TupleInput }>;
}
export interface CheckRequest {
  resource: string;
  permission: string;
  subject: string;
  consistency?: Consistency;
  explain?: boolean;
}
export interface CheckResult {
  allowed: boolean;
  revision: string;
  explain?: { path: string[] };
}

export interface LookupResourcesRequest {
  resourceType: string;
  permission: string;
  subject: string;
  limit?: number;
  cursor?: string;
  consistency?: Consistency;
}
export interface LookupSubjectsRequest {
  resource: string;
  permission: string;
  subjectType: string;
  limit?: number;
  cursor?: string;
  consistency?: Consistency;
}

/** What the CEL bridge needs: synchronous answers from the state in memory. */
export interface RelationshipChecker {
  check(subject: string, resource: string, permission: string): boolean;
  readonly revision: string;
}

export interface RelationServiceOptions {
  manager: RelationManager;
  parseLimits: ParseLimits;
  /** most cached check answers (default 100,000) */
  cacheMax?: number;
}

const DEFAULT_LIMIT = 100;

function syntax<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof TupleSyntaxError) throw new PolicyEngineError('RELATION_INVALID', `${what}: ${err.message}`);
    throw err;
  }
}

/** Ask the engine; what it cannot answer (unknown names, limits) becomes the coded error the routes send. */
function answer<T>(ask: () => T): T {
  try {
    return ask();
  } catch (err) {
    if (err instanceof RelationError) throw new PolicyEngineError(err.code, err.message, err.details);
    throw err;
  }
}

/** An opaque cursor: where the next page starts, and the revision it must be at least. */
function encodeCursor(after: string, revision: string): string {
  return Buffer.from(JSON.stringify({ a: after, r: revision })).toString('base64url');
}

function decodeCursor(cursor: string): { after: string; revision: number } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown; r?: unknown };
    const revision = typeof v.r === 'string' ? revisionNumber(v.r) : undefined;
    if (typeof v.a === 'string' && revision !== undefined) return { after: v.a, revision };
  } catch {
    // fall through to the error below
  }
  throw new PolicyEngineError('RELATION_INVALID', 'cursor: not a cursor this server handed out');
}

function pageLimit(limit: number | undefined): number {
  return Math.min(MAX_READ_LIMIT, Math.max(1, Math.trunc(limit ?? DEFAULT_LIMIT)));
}

export class RelationService {
  // Made on the first check: lru-cache allocates its arrays for `max` entries up front
  // (~2.4 MiB at 100,000), which a deployment without relationships never needs.
  private cache: LRUCache<string, boolean> | undefined;
  /** which checks were asked once already (admission to `cache`) */
  private doorkeeper: Doorkeeper | undefined;

  constructor(private readonly options: RelationServiceOptions) {}

  get manager(): RelationManager {
    return this.options.manager;
  }

  private get store(): RelationStore {
    return this.options.manager.store;
  }

  async getSchema(): Promise<StoredSchema> {
    const schema = await this.storeCall(() => this.store.getSchema());
    if (!schema) throw new PolicyEngineError('RELATION_SCHEMA_NOT_FOUND', 'no relationship schema is stored yet');
    return schema;
  }

  /** Validate, refuse a schema that would orphan stored tuples, store, and wait until this replica has it. */
  async putSchema(text: string, format: DocumentFormat, actor?: string): Promise<{ revision: string }> {
    const compiled = compileSchema(text, format, this.options.parseLimits);
    if (!compiled.ok) throw new PolicyEngineError('RELATION_SCHEMA_INVALID', `the schema has ${compiled.errors.length} error(s)`, compiled.errors);
    // Checked against this replica's tuples, freshly synced; a tuple written elsewhere in
    // the same instant can still slip through (it is then ignored by checks, never crashes them).
    await this.manager.syncNow();
    const orphans = orphanedTuples(compiled.schema, this.manager.engine.index.tuples());
    if (orphans.length > 0) throw new PolicyEngineError('RELATION_SCHEMA_INVALID', 'the schema would orphan stored tuples; delete them first', orphans);
    const r = await this.storeCall(() => this.store.putSchema(text, format, actor === undefined ? undefined : { actor }));
    await this.caughtUp(r.revision);
    return r;
  }

  async write(req: WriteRequest, actor?: string): Promise<{ revision: string }> {
    const parseList = (name: string, list: TupleInput[] | undefined): Tuple[] =>
      (list ?? []).map((x, i) => syntax(`${name}[${i}]`, () => tupleOf(x)));
    const preconditions: Precondition[] = (req.preconditions ?? []).map((p, i) => {
      const keys = Object.keys(p).filter((k) => (p as Record<string, unknown>)[k] !== undefined);
      if (keys.length !== 1) throw new PolicyEngineError('RELATION_INVALID', `preconditions[${i}]: give exactly one of mustExist and mustNotExist`);
      return p.mustExist !== undefined
        ? { mustExist: syntax(`preconditions[${i}].mustExist`, () => tupleOf(p.mustExist!)) }
        : { mustNotExist: syntax(`preconditions[${i}].mustNotExist`, () => tupleOf(p.mustNotExist!)) };
    });
    const batch: WriteBatch = { writes: parseList('writes', req.writes), deletes: parseList('deletes', req.deletes), preconditions };
    const problem = batchProblem(batch);
    if (problem) throw new PolicyEngineError('RELATION_TUPLE_INVALID', problem);
    if (batch.writes.length > 0) {
      // Validate against the newest schema, not what this replica polled last (another
      // replica may have just changed it).
      await this.manager.syncNow();
      const schema = this.manager.engine.schema;
      if (!schema) throw new PolicyEngineError('RELATION_TUPLE_INVALID', 'no relationship schema is stored yet: PUT /v1/relations/schema first');
      const errors = batch.writes.flatMap((t, i) => {
        const why = checkTuple(schema, t);
        return why === undefined ? [] : [{ path: `writes[${i}]`, tuple: formatTuple(t), message: why }];
      });
      if (errors.length > 0) throw new PolicyEngineError('RELATION_TUPLE_INVALID', `${errors.length} tuple(s) the schema does not allow`, errors.slice(0, 100));
    }
    const r = await this.storeCall(() => this.store.write(batch, actor === undefined ? undefined : { actor }));
    await this.caughtUp(r.revision);
    return r;
  }

  async read(query: { resource?: string; relation?: string; subject?: string; cursor?: string; limit?: number }): Promise<{ relationships: TupleObject[]; cursor: string | null }> {
    const filter = syntax('filter', () => filterOf(query));
    const schema = this.manager.engine.schema;
    const unknown = schema === undefined ? undefined : checkFilter(schema, filter);
    if (unknown !== undefined) throw new PolicyEngineError('RELATION_UNKNOWN', `the relationship schema does not know this filter: ${unknown}`);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor).after;
    const page = await this.storeCall(() => this.store.read(filter, { limit: pageLimit(query.limit), ...(after !== undefined ? { after } : {}) }));
    return { relationships: page.tuples.map(toTupleObject), cursor: page.next === undefined ? null : encodeCursor(page.next, '0') };
  }

  /**
   * Answered in the same tick when the request asks for no newer revision than this
   * replica's (the usual case); a promise only when it must wait for one. A bad request
   * throws at once either way.
   */
  check(req: CheckRequest): CheckResult | Promise<CheckResult> {
    const resource = syntax('resource', () => parseObject(req.resource));
    const subject = syntax('subject', () => parseSubject(req.subject));
    const now = (): CheckResult => {
      const revision = this.manager.revision;
      if (req.explain) {
        const r = answer(() => this.manager.engine.check(resource, req.permission, subject, { explain: true }));
        return { allowed: r.allowed, revision, ...(r.path ? { explain: { path: r.path } } : {}) };
      }
      return { allowed: answer(() => this.cachedCheck(resource, req.permission, subject)), revision };
    };
    const waiting = this.consistent(req.consistency);
    return waiting === undefined ? now() : waiting.then(now);
  }

  async lookupResources(req: LookupResourcesRequest): Promise<{ resources: string[]; cursor: string | null; revision: string }> {
    const subject = syntax('subject', () => parseSubject(req.subject));
    const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
    await this.consistent(req.consistency, cursor?.revision);
    const revision = this.manager.revision;
    const page = answer(() => this.manager.engine.lookupResources(req.resourceType, req.permission, subject, pageLimit(req.limit), cursor?.after));
    return { resources: page.ids.map((id) => formatObject({ type: req.resourceType, id })), cursor: page.next === undefined ? null : encodeCursor(page.next, revision), revision };
  }

  async lookupSubjects(req: LookupSubjectsRequest): Promise<{ subjects: string[]; cursor: string | null; revision: string }> {
    const resource = syntax('resource', () => parseObject(req.resource));
    const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
    await this.consistent(req.consistency, cursor?.revision);
    const revision = this.manager.revision;
    const page = answer(() => this.manager.engine.lookupSubjects(resource, req.permission, req.subjectType, pageLimit(req.limit), cursor?.after));
    return { subjects: page.ids.map((id) => formatSubject({ type: req.subjectType, id })), cursor: page.next === undefined ? null : encodeCursor(page.next, revision), revision };
  }

  /**
   * The ids (without type) of resources of `type` the subject has `permission` on, for a
   * query plan: at most `max`, else PLAN_TOO_LARGE (a plan never silently drops a row).
   */
  planIds(max: number): (subject: string, type: string, permission: string) => string[] {
    return (subject, type, permission) => {
      const s = syntax('subject', () => parseSubject(subject));
      const page = answer(() => this.manager.engine.lookupResources(type, permission, s, max + 1));
      if (page.ids.length > max) {
        throw new PolicyEngineError('PLAN_TOO_LARGE', `${subject} has ${permission} on more than ${max} ${type} resources (PLAN_MAX_IDS): a plan would list them all`);
      }
      return page.ids;
    };
  }

  /** POST /v1/relations/plan: lookup-resources as ids for a query plan, at a revision at least as new as asked. */
  async planResources(req: { subject: string; resourceType: string; permission: string; consistency?: Consistency }, max: number): Promise<{ ids: string[]; revision: string }> {
    await this.consistent(req.consistency);
    return { ids: this.planIds(max)(req.subject, req.resourceType, req.permission), revision: this.manager.revision };
  }

  /** The synchronous checker the CEL bridge calls during an evaluation (state in memory, as it is). */
  checker(): RelationshipChecker {
    const service = this;
    return {
      check(subject, resource, permission) {
        return service.cachedCheck(parseObject(resource), permission, parseSubject(subject));
      },
      get revision() {
        return service.manager.revision;
      },
    };
  }

  private cachedCheck(resource: ObjectRef, permission: string, subject: SubjectRef): boolean {
    const key = flat(`${this.manager.revision}\0${formatObject(resource)}\0${permission}\0${formatSubject(subject)}`);
    const cache = (this.cache ??= new LRUCache({ max: Math.max(1, this.options.cacheMax ?? 100_000) }));
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const { allowed } = this.manager.engine.check(resource, permission, subject);
    // Cached from its second ask: most checks of a random stream are never asked again.
    if ((this.doorkeeper ??= new Doorkeeper(cache.max)).seenBefore(key)) cache.set(key, allowed);
    return allowed;
  }

  /** What to wait for before answering at the consistency asked; undefined: nothing (answer now). */
  private consistent(c: Consistency | undefined, cursorRevision?: number): Promise<void> | undefined {
    let atLeast = cursorRevision ?? 0;
    if (c?.atLeast !== undefined) {
      const n = revisionNumber(c.atLeast);
      if (n === undefined) throw new PolicyEngineError('RELATION_INVALID', `consistency.atLeast: '${c.atLeast.slice(0, 40)}' is not a revision`);
      atLeast = Math.max(atLeast, n);
    }
    if (!c?.fullyConsistent && atLeast === 0) return undefined;
    return (async () => {
      if (c?.fullyConsistent) await this.manager.syncNow();
      if (atLeast > 0) await this.manager.waitFor(atLeast);
    })();
  }

  /** After a write: this replica reflects it before the call returns (read your writes). */
  private async caughtUp(revision: string): Promise<void> {
    try {
      await this.manager.waitFor(Number(revision));
    } catch (err) {
      // The write is committed; other replicas (and this one, on its next poll) will see it.
      if (!(err instanceof PolicyEngineError && err.code === 'RELATIONS_STALE')) throw err;
    }
  }

  private storeCall<T>(call: () => Promise<T>): Promise<T> {
    return storeCall('the relationship store', call);
  }
}
