// A `when` expression → a checked, compiled condition (once per document version).
// Errors carry the position in the expression; nothing here runs user input.

import { conditionEnvironment, ROOT_VARIABLES } from './environment.js';
import { analyseCondition, type ConditionReads } from './dependencies.js';
import type { CompiledRegistry } from '../registry/types.js';
import { activeBudget, CelBudget, chargeSteps, withBudget } from './budget.js';
import { instrument } from './instrument.js';

export interface CompiledCondition {
  readonly source: string;
  /**
   * evaluate against an activation; true/false, or throws (the caller fails closed).
   * Draws on the running CEL budget (budget.ts), or on a fresh default one when none runs.
   */
  readonly run: (activation: object) => unknown;
  readonly reads: ConditionReads;
}

export interface ConditionError {
  message: string;
  /** 1-based, inside the expression */
  line: number;
  column: number;
}

export const MAX_MACRO_NESTING = 1;

function positionOf(source: string, offset: number | undefined): { line: number; column: number } {
  if (offset === undefined || offset < 0) return { line: 1, column: 1 };
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}

function describe(source: string, err: unknown): ConditionError {
  const e = err as { summary?: string; message?: string; range?: { start?: number } };
  const message = (e.summary ?? e.message ?? String(err)).split('\n')[0]!.slice(0, 300);
  return { message, ...positionOf(source, e.range?.start) };
}

// CEL's own reserved words too: cel-js refuses to declare them as variables.
export const RESERVED_NAMES: ReadonlySet<string> = new Set<string>([...ROOT_VARIABLES, 'namespace', 'true', 'false', 'null', 'in', 'has',
  'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'return', 'var', 'void', 'while', '__proto__', 'prototype']);

/**
 * Compile an expression that must yield a bool. `predicateNames` are the named
 * predicates it may refer to (as boolean variables).
 */
export function compileCondition(source: string, predicateNames: readonly string[], registry?: CompiledRegistry): { ok: true; condition: CompiledCondition } | { ok: false; error: ConditionError } {
  const env = conditionEnvironment(predicateNames, registry);
  let parsed;
  try {
    parsed = env.parse(source);
  } catch (err) {
    return { ok: false, error: describe(source, err) };
  }
  const checked = parsed.check();
  if (!checked.valid) return { ok: false, error: describe(source, checked.error) };
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, error: { message: `a condition must be a bool, this is ${checked.type}`, line: 1, column: 1 } };
  }
  const { reads, macroDepth } = analyseCondition(parsed.ast, new Set(predicateNames));
  if (macroDepth > MAX_MACRO_NESTING) {
    return { ok: false, error: { message: 'comprehensions (all, exists, map, filter…) may not be nested: their cost would grow with the square of the input', line: 1, column: 1 } };
  }
  // Operators, functions and loops charge the CEL budget; `matches` runs on RE2, its
  // constant patterns compiled here (an invalid one is this expression's error).
  const { nodes, problems } = instrument(parsed.ast);
  if (problems.length > 0) return { ok: false, error: { message: problems[0]!.message.slice(0, 300), ...positionOf(source, problems[0]!.start) } };
  const evaluate = parsed as unknown as (a: object) => unknown;
  const run = (activation: object): unknown => {
    if (activeBudget() === undefined) return withBudget(new CelBudget(), () => run(activation));
    chargeSteps(nodes);
    return evaluate(activation);
  };
  return { ok: true, condition: { source, run, reads } };
}
