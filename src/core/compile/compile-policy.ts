// Document → compiled policy. Pure; every problem is collected, not just the first.

import { mustParsePattern } from '../pattern.js';
import { resolveDocumentNamespace } from '../namespace.js';
import type { DocumentError, PolicyDocument, PolicyRule } from '../document/types.js';
import type { CompiledPolicy, CompiledRule, LuaRef, SubjectMatcher } from './types.js';
import type { Pattern } from '../pattern.js';
import { Interned } from '../interned.js';
import { compileRuleChunks, LUA_RULE_READS } from './compile-lua.js';
import type { LuaBudgets } from '../lua/sandbox.js';
import type { CompiledRegistry } from '../registry/types.js';
import { compileCondition, type CompiledCondition } from '../condition/compile-condition.js';
import { emptyReads, mergeReads, type ConditionReads } from '../condition/dependencies.js';
import { compilePredicates, exprPosition, usablePredicateNames } from './compile-predicates.js';
import { compileMessage } from '../messages/compile-message.js';

export type CompileResult = { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] };

// Memory: every stored document stays compiled, so a rule's empty lists share one frozen
// array, subject names (the same few roles in thousands of documents) and rule ids one string, and
// equal subject matchers and pattern lists one frozen object (`role:editor` alone, or
// `document:read, document:list`, recur in most documents). Interned up to a bound.
const NONE: readonly never[] = Object.freeze([]);
const MAX_INTERNED = 100_000;
const names = new Interned<string>(MAX_INTERNED);
const intern = (name: string): string => names.get(name, () => name);
const matchers = new Interned<SubjectMatcher>(MAX_INTERNED);
const patternLists = new Interned<readonly Pattern[]>(MAX_INTERNED);

function compileSubjects(subjects: readonly string[], path: string, errors: DocumentError[]): SubjectMatcher {
  let any = false;
  const ids: string[] = [];
  const roles: string[] = [];
  const groups: string[] = [];
  subjects.forEach((s, i) => {
    const bad = (what: string) => errors.push({ path: `${path}[${i}]`, message: `${what} needs a name after the ':'` });
    if (s === '*') any = true;
    else if (s.startsWith('role:')) s.length > 5 ? roles.push(intern(s.slice(5))) : bad("'role:'");
    else if (s.startsWith('group:')) s.length > 6 ? groups.push(intern(s.slice(6))) : bad("'group:'");
    else if (s.startsWith('id:')) s.length > 3 ? ids.push(intern(s.slice(3))) : bad("'id:'");
    else ids.push(intern(s));
  });
  // Lists of the exact length, frozen: pushed arrays keep room for 17 entries.
  const exact = (list: string[]): readonly string[] => (list.length === 0 ? NONE : Object.freeze(list.slice()));
  return matchers.get(JSON.stringify([any, ids, roles, groups]), () => Object.freeze({ any, ids: exact(ids), roles: exact(roles), groups: exact(groups) }));
}

const patterns = (list: readonly string[] | undefined): readonly Pattern[] =>
  list === undefined || list.length === 0 ? NONE : patternLists.get(JSON.stringify(list), () => Object.freeze(list.map(mustParsePattern)));

function compileRule(rule: PolicyRule, index: number, key: string, predicateNames: string[], errors: DocumentError[], registry: CompiledRegistry | undefined, lua: LuaRef | undefined): CompiledRule {
  const path = `rules[${index}]`;
  let condition: CompiledCondition | undefined;
  if (rule.when !== undefined) {
    const r = compileCondition(rule.when, predicateNames, registry);
    if (r.ok) condition = r.condition;
    else errors.push({ path: `${path}.when`, message: r.error.message + exprPosition(r.error) });
  }
  // One literal (its fields inside the object), the rare condition and chunk appended:
  // fields after a spread go to a separate backing array, 64 bytes more per rule.
  const compiled: { -readonly [K in keyof CompiledRule]: CompiledRule[K] } = {
    id: intern(rule.id ?? `#${index}`),
    index,
    policy: key,
    subjects: compileSubjects(rule.subjects, `${path}.subjects`, errors),
    grant: patterns(rule.grant),
    revoke: patterns(rule.revoke),
    deny: patterns(rule.deny),
    message: rule.message === undefined ? undefined : compileMessage(rule.message, `${path}.message`, errors),
  };
  if (condition) compiled.condition = condition;
  if (lua) compiled.lua = lua;
  return compiled;
}

export interface CompileOptions {
  /** the attribute registry conditions are typed against (untyped without one) */
  registry?: CompiledRegistry;
  /** budgets of Lua chunks (defaults when absent) */
  luaBudgets?: LuaBudgets;
}

/** Compile a schema-valid document. */
export function compilePolicy(doc: PolicyDocument, options: CompileOptions = {}): CompileResult {
  const registry = options.registry;
  const errors: DocumentError[] = [];
  const ns = resolveDocumentNamespace(doc.key, doc.namespace);
  if (!ns.ok) errors.push({ path: doc.namespace !== undefined ? 'namespace' : 'key', message: ns.reason });
  const ids = new Set<string>();
  doc.rules.forEach((r, i) => {
    if (r.id === undefined) return;
    if (ids.has(r.id)) errors.push({ path: `rules[${i}].id`, message: `duplicate rule id ${JSON.stringify(r.id)}` });
    ids.add(r.id);
  });
  const predicates = compilePredicates(doc.predicates, errors, registry);
  const predicateNames = usablePredicateNames(doc.predicates);
  const luaRefs = compileRuleChunks(doc, options.luaBudgets, errors);
  const rules = doc.rules.map((r, i) => compileRule(r, i, doc.key, predicateNames, errors, registry, luaRefs.get(i)));
  let reads: ConditionReads | undefined;
  for (const c of [...predicates.values(), ...rules.map((r) => r.condition)]) {
    if (!c) continue;
    reads ??= emptyReads();
    mergeReads(reads, c.reads);
  }
  if (luaRefs.size > 0) mergeReads((reads ??= emptyReads()), LUA_RULE_READS);
  if (errors.length > 0 || !ns.ok) return { ok: false, errors };
  return {
    ok: true,
    policy: {
      kind: 'policy',
      key: doc.key,
      namespace: ns.namespace,
      ordinal: doc.ordinal,
      disabled: doc.disabled === true,
      rules,
      predicates,
      reads,
      typed: registry !== undefined,
      document: doc,
    },
  };
}
