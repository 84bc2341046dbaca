// Named predicates of a document: each compiled as a condition that may use the
// others by name; references must exist and never form a cycle.

import { compileCondition, RESERVED_NAMES, type CompiledCondition } from '../condition/compile-condition.js';
import type { DocumentError } from '../document/types.js';
import type { CompiledRegistry } from '../registry/types.js';

function exprPosition(e: { line: number; column: number }): string {
  return ` (expression line ${e.line}, column ${e.column})`;
}

/** The predicate names rules may use: the declared ones minus reserved words (reported separately). */
export function usablePredicateNames(predicates: Record<string, string> | undefined): string[] {
  return Object.keys(predicates ?? {}).filter((n) => !RESERVED_NAMES.has(n));
}

/** Documents without predicates (most) share one empty map: a `Map` costs ~180 bytes even empty. */
const NO_PREDICATES: ReadonlyMap<string, CompiledCondition> = new Map();

export function compilePredicates(predicates: Record<string, string> | undefined, errors: DocumentError[], registry?: CompiledRegistry): ReadonlyMap<string, CompiledCondition> {
  if (!predicates || Object.keys(predicates).length === 0) return NO_PREDICATES;
  const out = new Map<string, CompiledCondition>();
  const names = usablePredicateNames(predicates);
  for (const name of Object.keys(predicates)) {
    if (RESERVED_NAMES.has(name)) {
      errors.push({ path: `predicates.${name}`, message: `${name} is a reserved name` });
      continue;
    }
    const r = compileCondition(predicates[name]!, names, registry);
    if (!r.ok) errors.push({ path: `predicates.${name}`, message: r.error.message + exprPosition(r.error) });
    else out.set(name, r.condition);
  }
  // Cycle check over the references (a predicate naming itself included).
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name].join(' → ');
      errors.push({ path: `predicates.${trail[0]}`, message: `predicates refer to each other in a cycle: ${cycle}` });
      return;
    }
    state.set(name, 'visiting');
    for (const next of out.get(name)?.reads.predicates ?? []) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of out.keys()) if (!state.has(name)) visit(name, []);
  return out;
}

export { exprPosition };
