// A namespace path compiled for evaluation: every rule of its enabled documents in run
// order, indexed by the subject tokens that can match it (id, role, group, anyone).
// Built once per path and policy state; an evaluation then visits only the rules the
// subject can match instead of testing every matcher.

import type { CompiledPolicy, CompiledRule } from '../compile/types.js';
import type { Decision, EvaluationInput, Subject } from './types.js';
import { applyMatchedRule, type RuleContext } from './apply-rule.js';
import { emptyReads, mergeReads, type ConditionReads } from '../condition/dependencies.js';
import { Summary } from './summary.js';
import { BitSummary } from './bit-summary.js';
import { buildPatternTable, MAX_TABLE_PATTERNS, type PatternTable } from './pattern-table.js';
import type { Pattern } from '../pattern.js';
import { InternedLists, WeaklyShared } from '../interned.js';
import { evaluatePolicies, type EvaluateOptions } from './evaluate.js';

/**
 * The rules of a run of documents (one namespace's, in the policy manager), indexed by the
 * subject tokens that can match them. Built once and shared by every path plan that holds
 * the namespace: thousands of tenant paths (`global.org.org:<id>`) share the segments of
 * `global` and `org` instead of each flattening them again.
 */
export interface PlanSegment {
  /** every document in run order, disabled ones included (the default counts them) */
  readonly policies: readonly CompiledPolicy[];
  /** keys of the documents that run */
  readonly keys: readonly string[];
  readonly rules: readonly CompiledRule[];
  /** the document of each rule (conditions run in their document's activation) */
  readonly owners: readonly CompiledPolicy[];
  /** the index below, shared with every segment whose rules match subjects alike (this reference keeps it shared) */
  readonly index: SubjectIndex;
  /** subject id / role / group → positions in `rules`, ascending (the index's, read directly when evaluating) */
  readonly byId: ReadonlyMap<string, readonly number[]>;
  readonly byRole: ReadonlyMap<string, readonly number[]>;
  readonly byGroup: ReadonlyMap<string, readonly number[]>;
  /** positions of rules that match anyone */
  readonly anyone: readonly number[];
  /** what the segment's conditions read; undefined when none */
  readonly reads: ConditionReads | undefined;
  /** a rule runs a script (its patterns are known only at run time) */
  readonly scripted: boolean;
  /** the distinct patterns of the segment's effects, one per text (an array: a Map per tenant segment costs more) */
  readonly patterns: readonly Pattern[];
  /** the segment's effects as ids of a path's pattern table, per table (tables are shared too); made on first use */
  idsByTable: WeakMap<PatternTable, FlatIds> | undefined;
}

/**
 * With a table: each rule's grant, revoke and deny as pattern ids, in one flat list;
 * rule i's grant ids are list[starts[3i] … starts[3i+1]), then revoke, then deny up to
 * starts[3i+3]. (Three typed arrays per rule cost more memory than the rest of the plan.)
 */
export interface FlatIds {
  readonly list: Int32Array;
  readonly starts: Uint32Array;
}

export interface PathPlan {
  /** the segments in run order (a namespace path: one per namespace holding documents) */
  readonly segments: readonly PlanSegment[];
  /** every gathered document in run order, disabled ones included (built on first use: explain, query plans) */
  readonly policies: readonly CompiledPolicy[];
  /** no document was gathered (disabled ones count): the configured default answers */
  readonly empty: boolean;
  /** keys of the documents that run */
  readonly keys: readonly string[];
  /** what the path's conditions read (the cache identity must include it); undefined when none */
  readonly reads: ConditionReads | undefined;
  /** the path's patterns with precomputed relations, when every effect is static and they are few */
  readonly table: PatternTable | undefined;
  /** with a table: each segment's effects as its ids (segment k: ids[k]) */
  readonly ids: readonly FlatIds[] | undefined;
  /** estimated bytes of the shared structures this plan had to build (a new pattern table) */
  readonly built: number;
  /** every rule in run order (built on first use: evaluation walks the segments) */
  readonly rules: readonly CompiledRule[];
  /** the document of each rule of `rules` */
  readonly owners: readonly CompiledPolicy[];
}

/** Lists joined into one of the exact length (`flatMap` pushes, leaving room to spare in a list kept per path). */
function concatenated<T>(lists: ReadonlyArray<readonly T[]>): T[] {
  return ([] as T[]).concat(...lists);
}

class SegmentedPlan implements PathPlan {
  private flatPolicies: readonly CompiledPolicy[] | undefined = undefined;
  private flatRules: readonly CompiledRule[] | undefined = undefined;
  private flatOwners: readonly CompiledPolicy[] | undefined = undefined;

  constructor(
    readonly segments: readonly PlanSegment[],
    readonly keys: readonly string[],
    readonly reads: ConditionReads | undefined,
    readonly table: PatternTable | undefined,
    readonly ids: readonly FlatIds[] | undefined,
    readonly built: number,
  ) {}

  get empty(): boolean {
    return this.segments.length === 0;
  }

  get policies(): readonly CompiledPolicy[] {
    if (this.segments.length === 1) return this.segments[0]!.policies;
    return (this.flatPolicies ??= concatenated(this.segments.map((s) => s.policies)));
  }

  get rules(): readonly CompiledRule[] {
    if (this.segments.length === 1) return this.segments[0]!.rules;
    return (this.flatRules ??= concatenated(this.segments.map((s) => s.rules)));
  }

  get owners(): readonly CompiledPolicy[] {
    if (this.segments.length === 1) return this.segments[0]!.owners;
    return (this.flatOwners ??= concatenated(this.segments.map((s) => s.owners)));
  }
}

function add(index: Map<string, number[]>, token: string, position: number): void {
  const list = index.get(token);
  if (!list) index.set(token, [position]);
  else if (list[list.length - 1] !== position) list.push(position);
}

const NO_INDEX: ReadonlyMap<string, readonly number[]> = new Map();

/**
 * Position lists recur across segments (a tenant's few documents index `[0]`, `[1, 5]`…),
 * so equal lists share one frozen array, up to a bound.
 */
const positionLists = new InternedLists<number>(10_000);

/** An index with shared position lists (empty: the shared empty index). */
function settledIndex(index: Map<string, number[]>): ReadonlyMap<string, readonly number[]> {
  if (index.size === 0) return NO_INDEX;
  const settled = new Map<string, readonly number[]>();
  for (const [token, list] of index) settled.set(token, positionLists.get(list));
  return settled;
}

/** The segment of a run of documents (in run order, disabled ones included). */
export function buildSegment(policies: readonly CompiledPolicy[]): PlanSegment {
  const rules: CompiledRule[] = [];
  const owners: CompiledPolicy[] = [];
  let reads: ConditionReads | undefined;
  const keys: string[] = [];
  const patterns = new Map<string, Pattern>();
  let scripted = false;
  for (const policy of policies) {
    if (policy.disabled) continue;
    keys.push(policy.key);
    if (policy.reads) mergeReads((reads ??= emptyReads()), policy.reads);
    for (const rule of policy.rules) {
      rules.push(rule);
      owners.push(policy);
      if (rule.script) scripted = true;
      for (const list of [rule.grant, rule.revoke, rule.deny]) for (const p of list) if (!patterns.has(p.text)) patterns.set(p.text, p);
    }
  }
  const key = rules.map((r) => identityOf(r.subjects)).join(',');
  const index = subjectIndexes.get(key) ?? subjectIndexes.set(key, subjectIndex(rules));
  // Kept as long as the policy state: lists of their exact length (slice), not pushed ones.
  return {
    policies, keys: keys.slice(), rules: rules.slice(), owners: owners.slice(), reads, scripted, patterns: [...patterns.values()],
    index, byId: index.byId, byRole: index.byRole, byGroup: index.byGroup, anyone: index.anyone,
    idsByTable: undefined,
  };
}

function subjectIndex(rules: readonly CompiledRule[]): SubjectIndex {
  const byId = new Map<string, number[]>();
  const byRole = new Map<string, number[]>();
  const byGroup = new Map<string, number[]>();
  const anyone: number[] = [];
  rules.forEach((rule, at) => {
    const m = rule.subjects;
    if (m.any) {
      anyone.push(at);
      return;
    }
    for (const id of m.ids) add(byId, id, at);
    for (const role of m.roles) add(byRole, role, at);
    for (const group of m.groups) add(byGroup, group, at);
  });
  // Empty indexes are shared: most segments index only roles.
  return {
    byId: settledIndex(byId),
    byRole: settledIndex(byRole),
    byGroup: settledIndex(byGroup),
    anyone: positionLists.get(anyone),
  };
}

/** Pattern tables by the texts of their patterns, shared by every plan over the same set (a table is a function of those texts alone). */
const tables = new WeaklyShared<PatternTable>();

function sharedTable(patterns: readonly Pattern[]): { table: PatternTable | undefined; built: boolean } {
  if (patterns.length > MAX_TABLE_PATTERNS) return { table: undefined, built: false };
  const key = JSON.stringify(patterns.map((p) => p.text).sort());
  const known = tables.get(key);
  if (known) return { table: known, built: false };
  const table = buildPatternTable(patterns);
  if (table) tables.set(key, table);
  return { table, built: table !== undefined };
}

/**
 * A number per shared compiled value (an interned subject matcher or pattern list,
 * compile-policy.ts): segments whose rules hold the same values, in the same order, are
 * indexed alike, so they share their index and id lists. Values that were not interned
 * get numbers of their own and share nothing.
 */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
function identityOf(value: object): number {
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = nextIdentity++));
  return id;
}

/** A segment's subject index: which rules each subject token can match. */
export type SubjectIndex = Pick<PlanSegment, 'byId' | 'byRole' | 'byGroup' | 'anyone'>;
/** Tenants' documents are often made from one template: thousands of segments, one index. */
const subjectIndexes = new WeaklyShared<SubjectIndex>();
/** Id lists by table, by the rules' effect lists. */
const idLists = new WeakMap<PatternTable, WeaklyShared<FlatIds>>();

function idsFor(segment: PlanSegment, table: PatternTable): FlatIds {
  let ids = segment.idsByTable?.get(table);
  if (!ids) {
    let shared = idLists.get(table);
    if (shared === undefined) idLists.set(table, (shared = new WeaklyShared()));
    const key = segment.rules.map((r) => `${identityOf(r.grant)} ${identityOf(r.revoke)} ${identityOf(r.deny)}`).join(',');
    ids = shared.get(key) ?? shared.set(key, flatIds(segment.rules, table));
    (segment.idsByTable ??= new WeakMap()).set(table, ids);
  }
  return ids;
}

/** The plan of segments run one after the other (the same decisions as one segment of all their documents). */
export function buildPathPlan(given: readonly PlanSegment[]): PathPlan {
  // A segment without documents changes nothing (and `empty` counts segments).
  const segments = given.some((s) => s.policies.length === 0) ? given.filter((s) => s.policies.length > 0) : given;
  const one = segments.length === 1 ? segments[0] : undefined;
  let reads: ConditionReads | undefined;
  let scripted = false;
  for (const s of segments) {
    if (s.reads) mergeReads((reads ??= emptyReads()), s.reads);
    if (s.scripted) scripted = true;
  }
  // Script documents produce patterns at run time: such paths use the generic summary.
  let table: PatternTable | undefined;
  let built = 0;
  if (!scripted) {
    let patterns = one?.patterns;
    if (!patterns) {
      const union = new Map<string, Pattern>();
      for (const s of segments) for (const p of s.patterns) if (!union.has(p.text)) union.set(p.text, p);
      patterns = [...union.values()];
    }
    const shared = sharedTable(patterns);
    table = shared.table;
    if (table && shared.built) built = tableBytes(table);
  }
  return new SegmentedPlan(
    segments,
    one ? one.keys : concatenated(segments.map((s) => s.keys)),
    reads,
    table,
    table ? segments.map((s) => idsFor(s, table)) : undefined,
    built,
  );
}

/** The plan of documents in run order, as one segment. */
export function buildPlan(policies: readonly CompiledPolicy[]): PathPlan {
  return buildPathPlan(policies.length === 0 ? [] : [buildSegment(policies)]);
}

/** Bytes of a V8 object header, an array's header, one pointer, one Map entry (estimates). */
const OBJECT = 64;
const ARRAY = 32;
const POINTER = 8;
const MAP_ENTRY = 40;

function indexBytes(index: ReadonlyMap<string, readonly number[]>): number {
  if (index === NO_INDEX) return 0;
  let bytes = OBJECT;
  for (const list of index.values()) bytes += MAP_ENTRY + ARRAY + list.length * POINTER;
  return bytes;
}

function tableBytes(table: PatternTable): number {
  return OBJECT + ARRAY + table.patterns.length * (POINTER + MAP_ENTRY) + 3 * OBJECT + table.coveredBy.byteLength + table.covers.byteLength + table.overlapping.byteLength;
}

/**
 * What a segment holds beyond the compiled documents it refers to (their rules and
 * patterns are counted once, in the documents): its arrays, indexes and id lists.
 */
export function segmentBytes(segment: PlanSegment): number {
  let bytes = OBJECT * 2 + ARRAY * 5;
  bytes += (segment.policies.length + segment.keys.length + segment.anyone.length) * POINTER;
  bytes += segment.rules.length * 2 * POINTER; // rules and owners
  bytes += indexBytes(segment.byId) + indexBytes(segment.byRole) + indexBytes(segment.byGroup);
  bytes += ARRAY + segment.patterns.length * POINTER;
  // Its ids against one table (a segment on paths of several pattern sets holds one list per set).
  bytes += 3 * OBJECT + (segment.rules.length * 3 + 1) * 4 + segment.rules.length * 4 * 4;
  return bytes;
}

/**
 * What a plan holds of its own: its arrays, and the shared structures it had to build
 * (a new pattern table; the segments it built are counted by whoever built them:
 * `segmentBytes`). An estimate for the plan cache's byte budget (PLAN_CACHE_MAX_BYTES).
 */
export function planBytes(plan: PathPlan): number {
  let bytes = OBJECT + ARRAY * 2 + plan.segments.length * POINTER * 2;
  if (plan.segments.length > 1) bytes += ARRAY + plan.keys.length * POINTER;
  return bytes + plan.built;
}

function flatIds(rules: readonly CompiledRule[], table: PatternTable): FlatIds {
  const starts = new Uint32Array(rules.length * 3 + 1);
  const out: number[] = [];
  const push = (patterns: readonly Pattern[]) => {
    for (const p of patterns) out.push(table.idOf.get(p.text)!);
  };
  rules.forEach((r, i) => {
    starts[3 * i] = out.length;
    push(r.grant);
    starts[3 * i + 1] = out.length;
    push(r.revoke);
    starts[3 * i + 2] = out.length;
    push(r.deny);
  });
  starts[rules.length * 3] = out.length;
  return { list: Int32Array.from(out), starts };
}

/** Scratch marks, reused across calls (evaluation is synchronous). */
let marks = new Uint8Array(256);

function mark(list: readonly number[] | undefined): void {
  if (list) for (let i = 0; i < list.length; i++) marks[list[i]!] = 1;
}

/** Mark the positions of `seg` the subject can match. */
function markSubject(seg: PlanSegment, s: Subject): void {
  mark(seg.anyone);
  if (seg.byId.size > 0) mark(seg.byId.get(s.id));
  if (seg.byRole.size > 0) for (let i = 0; i < s.roles.length; i++) mark(seg.byRole.get(s.roles[i]!));
  if (seg.byGroup.size > 0) for (let i = 0; i < s.groups.length; i++) mark(seg.byGroup.get(s.groups[i]!));
}

/** Apply the rules of one segment the subject matches, in order. */
function runSegment(seg: PlanSegment, ids: FlatIds | undefined, bits: BitSummary | undefined, ctx: RuleContext): void {
  const n = seg.rules.length;
  if (n === 0) return;
  if (marks.length < n) marks = new Uint8Array(Math.max(n, marks.length * 2));
  markSubject(seg, ctx.input.subject);
  const rules = seg.rules;
  const summary = ctx.summary;
  let i = 0;
  try {
    for (; i < n; i++) {
      if (marks[i] === 0) continue;
      marks[i] = 0;
      const rule = rules[i]!;
      if (rule.condition || rule.lua || rule.script) {
        applyMatchedRule(seg.owners[i]!, rule, ctx);
        continue;
      }
      if (bits) {
        const { list, starts } = ids!;
        const r = 3 * i;
        for (let j = starts[r]!; j < starts[r + 1]!; j++) bits.grantId(list[j]!);
        for (let j = starts[r + 1]!; j < starts[r + 2]!; j++) bits.revokeId(list[j]!);
        for (let j = starts[r + 2]!; j < starts[r + 3]!; j++) bits.denyId(list[j]!);
      } else {
        const { grant, revoke, deny } = rule;
        for (let j = 0; j < grant.length; j++) summary.grant(grant[j]!);
        for (let j = 0; j < revoke.length; j++) summary.revoke(revoke[j]!);
        for (let j = 0; j < deny.length; j++) summary.deny(deny[j]!);
      }
      ctx.applied.push(rule);
    }
  } catch (err) {
    // Marks left set would apply rules to the next evaluation's subject.
    marks.fill(0, 0, n);
    throw err;
  }
}

/** Evaluate a plan. With `explain`, the full walk of evaluatePolicies builds the trace. */
export function evaluatePlan(plan: PathPlan, input: EvaluationInput, options: EvaluateOptions): Decision {
  if (options.explain === true || plan.empty) return evaluatePolicies(plan.policies, input, options);
  const bits = plan.table ? new BitSummary(plan.table) : undefined;
  const summary = bits ?? new Summary();
  const ctx: RuleContext = { input, now: options.now, registry: options.registry, relationships: options.relationships, summary, applied: [] };
  const segments = plan.segments;
  const ids = plan.ids;
  for (let k = 0; k < segments.length; k++) runSegment(segments[k]!, ids ? ids[k] : undefined, bits, ctx);
  const { applied, failures } = ctx;
  const { permissions, denied } = summary.lists();
  const decision: Decision = { permissions, denied, exact: summary.exact, default: false, policies: plan.keys as string[], applied };
  if (failures) decision.conditionErrors = failures;
  const facts = ctx.runner?.emittedFacts();
  if (facts) decision.facts = facts;
  return decision;
}
