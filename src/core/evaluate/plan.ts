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
import { buildPatternTable, type PatternTable } from './pattern-table.js';
import type { Pattern } from '../pattern.js';
import { evaluatePolicies, type EvaluateOptions } from './evaluate.js';

export interface PathPlan {
  /** every gathered document in run order, disabled ones included (the default counts them) */
  readonly policies: readonly CompiledPolicy[];
  /** keys of the documents that run */
  readonly keys: readonly string[];
  readonly rules: readonly CompiledRule[];
  /** the document of each rule (conditions run in their document's activation) */
  readonly owners: readonly CompiledPolicy[];
  /** subject id / role / group → positions in `rules`, ascending */
  readonly byId: ReadonlyMap<string, readonly number[]>;
  readonly byRole: ReadonlyMap<string, readonly number[]>;
  readonly byGroup: ReadonlyMap<string, readonly number[]>;
  /** positions of rules that match anyone */
  readonly anyone: readonly number[];
  /** what the path's conditions read (the cache identity must include it); undefined when none */
  readonly reads: ConditionReads | undefined;
  /** the path's patterns with precomputed relations, when every effect is static and they are few */
  readonly table: PatternTable | undefined;
  /**
   * With a table: each rule's grant, revoke and deny as pattern ids, in one flat list;
   * rule i's grant ids are list[starts[3i] … starts[3i+1]), then revoke, then deny up to
   * starts[3i+3]. (Three typed arrays per rule cost more memory than the rest of the plan.)
   */
  readonly ids: { readonly list: Int32Array; readonly starts: Uint32Array } | undefined;
}

function add(index: Map<string, number[]>, token: string, position: number): void {
  const list = index.get(token);
  if (!list) index.set(token, [position]);
  else if (list[list.length - 1] !== position) list.push(position);
}

export function buildPlan(policies: readonly CompiledPolicy[]): PathPlan {
  const rules: CompiledRule[] = [];
  const owners: CompiledPolicy[] = [];
  let reads: ConditionReads | undefined;
  const keys: string[] = [];
  const byId = new Map<string, number[]>();
  const byRole = new Map<string, number[]>();
  const byGroup = new Map<string, number[]>();
  const anyone: number[] = [];
  for (const policy of policies) {
    if (policy.disabled) continue;
    keys.push(policy.key);
    if (policy.reads) mergeReads((reads ??= emptyReads()), policy.reads);
    for (const rule of policy.rules) {
      const at = rules.length;
      rules.push(rule);
      owners.push(policy);
      const m = rule.subjects;
      if (m.any) {
        anyone.push(at);
        continue;
      }
      for (const id of m.ids) add(byId, id, at);
      for (const role of m.roles) add(byRole, role, at);
      for (const group of m.groups) add(byGroup, group, at);
    }
  }
  // Script documents produce patterns at run time: such paths use the generic summary.
  const table = rules.some((r) => r.script) ? undefined : buildPatternTable(rules.flatMap((r) => [...r.grant, ...r.revoke, ...r.deny]));
  const ids = table ? flatIds(rules, table) : undefined;
  return { policies, keys, rules, owners, byId, byRole, byGroup, anyone, reads, table, ids };
}

/** Bytes of a V8 object header, an array's header, one pointer, one Map entry (estimates). */
const OBJECT = 64;
const ARRAY = 32;
const POINTER = 8;
const MAP_ENTRY = 40;

function indexBytes(index: ReadonlyMap<string, readonly number[]>): number {
  let bytes = OBJECT;
  for (const list of index.values()) bytes += MAP_ENTRY + ARRAY + list.length * POINTER;
  return bytes;
}

/**
 * What a plan holds beyond the compiled documents it shares with every other plan (their
 * rules and patterns are counted once, in the documents): its arrays, indexes, pattern
 * table and id lists. An estimate for the plan cache's byte budget (PLAN_CACHE_MAX_BYTES);
 * the largest part of a plan on a path of many rules is the table's three bit matrices.
 */
export function planBytes(plan: PathPlan): number {
  let bytes = OBJECT * 2 + ARRAY * 5;
  bytes += (plan.policies.length + plan.keys.length + plan.anyone.length) * POINTER;
  bytes += plan.rules.length * 2 * POINTER; // rules and owners
  bytes += indexBytes(plan.byId) + indexBytes(plan.byRole) + indexBytes(plan.byGroup);
  const table = plan.table;
  if (table) {
    bytes += OBJECT + ARRAY + table.patterns.length * (POINTER + MAP_ENTRY);
    bytes += 3 * OBJECT + table.coveredBy.byteLength + table.covers.byteLength + table.overlapping.byteLength;
  }
  if (plan.ids) bytes += 3 * OBJECT + plan.ids.list.byteLength + plan.ids.starts.byteLength;
  return bytes;
}

function flatIds(rules: readonly CompiledRule[], table: PatternTable): { list: Int32Array; starts: Uint32Array } {
  const starts = new Uint32Array(rules.length * 3 + 1);
  const out: number[] = [];
  const push = (patterns: readonly Pattern[]) => {
    for (const p of patterns) out.push(table.idOf.get(p)!);
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

/** Evaluate a plan. With `explain`, the full walk of evaluatePolicies builds the trace. */
export function evaluatePlan(plan: PathPlan, input: EvaluationInput, options: EvaluateOptions): Decision {
  if (options.explain === true || plan.policies.length === 0) return evaluatePolicies(plan.policies, input, options);
  const n = plan.rules.length;
  if (marks.length < n) marks = new Uint8Array(Math.max(n, marks.length * 2));
  const s: Subject = input.subject;
  mark(plan.anyone);
  if (plan.byId.size > 0) mark(plan.byId.get(s.id));
  if (plan.byRole.size > 0) for (let i = 0; i < s.roles.length; i++) mark(plan.byRole.get(s.roles[i]!));
  if (plan.byGroup.size > 0) for (let i = 0; i < s.groups.length; i++) mark(plan.byGroup.get(s.groups[i]!));
  const bits = plan.table ? new BitSummary(plan.table) : undefined;
  const summary = bits ?? new Summary();
  const ctx: RuleContext = { input, now: options.now, registry: options.registry, relationships: options.relationships, summary, applied: [] };
  const rules = plan.rules;
  const ids = plan.ids;
  for (let i = 0; i < n; i++) {
    if (marks[i] === 0) continue;
    marks[i] = 0;
    const rule = rules[i]!;
    if (rule.condition || rule.lua || rule.script) {
      applyMatchedRule(plan.owners[i]!, rule, ctx);
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
  const { applied, failures } = ctx;
  const { permissions, denied } = summary.lists();
  const decision: Decision = { permissions, denied, exact: summary.exact, default: false, policies: plan.keys as string[], applied };
  if (failures) decision.conditionErrors = failures;
  const facts = ctx.runner?.emittedFacts();
  if (facts) decision.facts = facts;
  return decision;
}
