// Instrumenting a checked cel-js expression so that running it draws on the CEL budget
// (budget.ts) and `matches` runs on RE2 (regex.ts). cel-js has no cost hooks, so this
// wraps the handlers its type checker attaches to the syntax tree (`node.handle`):
// operators and functions are charged by the size of what they read and build,
// comprehensions by their item count × the nodes of their step, before they loop.
//
// This leans on cel-js 8's tree (ops, `handle`, `meta.alternate`, comprehension args); a
// node of an unknown shape makes the condition a compile error rather than an unbounded
// one (fail closed), and the tests prove every worst case is bounded.

import { chargeAllocation, chargeSteps, stepsLeft } from './budget.js';
import { compileRegex, estimateProgramSize, MAX_REGEX_PROGRAM, type CompiledRegex } from './regex.js';

/** a tenth of a step per character read, as cel-go's StringTraversalCostFactor */
const PER_CHAR = 0.1;
/** `matches`: steps per character × RE2 instruction */
const PER_REGEX_STEP = 0.25;
/** compiling a pattern made at run time: steps per (estimated) RE2 instruction (~2 µs each) */
const PER_REGEX_COMPILE = 20;
/** helpers that format dates in a time zone (Intl) */
const TIME_ZONE_CALL = 20;

interface Node {
  op: string;
  args: unknown;
  handle?: (...a: unknown[]) => unknown;
  meta?: { alternate?: Node; macro?: unknown };
  start?: number;
}

export interface Problem {
  message: string;
  /** offset in the expression */
  start?: number;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).op === 'string' && 'meta' in v;
}

function keyCount(o: object, cap: number): number {
  let n = 0;
  for (const _ in o) if (++n > cap) break;
  return n;
}

/** Steps to read a value once, shallowly (a list's elements, a string's characters). */
export function readCost(v: unknown): number {
  if (typeof v === 'string') return Math.ceil(v.length * PER_CHAR);
  if (typeof v !== 'object' || v === null) return 0;
  if (Array.isArray(v)) return v.length;
  if (v instanceof Uint8Array) return Math.ceil(v.length * PER_CHAR);
  if (v instanceof Map || v instanceof Set) return v.size;
  if (v instanceof Date) return 0;
  return keyCount(v, stepsLeft() + 1);
}

/** Characters / elements / entries a value holds at its top level (what building it allocated). */
export function builtSize(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object' || v === null) return 0;
  if (Array.isArray(v) || v instanceof Uint8Array) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (v instanceof Date) return 0;
  return keyCount(v, Number.MAX_SAFE_INTEGER);
}

/**
 * Steps to go through a value deeply (what equality and `in` over lists may do), counting
 * shared parts each time they are reached, as the comparison would. Stops past `cap`.
 */
export function deepCost(v: unknown, cap: number): number {
  if (typeof v !== 'object' || v === null) return typeof v === 'string' ? Math.ceil(v.length * PER_CHAR) : 0;
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0 && n <= cap) {
    const x = stack.pop();
    n++;
    if (typeof x === 'string') n += Math.ceil(x.length * PER_CHAR);
    else if (typeof x === 'object' && x !== null && !(x instanceof Date)) {
      if (Array.isArray(x)) for (let i = 0; i < x.length && n + stack.length <= cap; i++) stack.push(x[i]);
      else if (x instanceof Uint8Array) n += Math.ceil(x.length * PER_CHAR);
      else if (x instanceof Map) for (const [k, y] of x) { stack.push(k, y); if (n + stack.length > cap) break; }
      else if (x instanceof Set) for (const y of x) { stack.push(y); if (n + stack.length > cap) break; }
      else for (const k in x) { stack.push((x as Record<string, unknown>)[k]); n++; if (n + stack.length > cap) break; }
    }
  }
  return n + stack.length;
}

function isScalar(v: unknown): boolean {
  return typeof v !== 'object' || v === null || v instanceof Date;
}

function binaryCost(op: string, l: unknown, r: unknown): number {
  switch (op) {
    case '==':
    case '!=':
      if (isScalar(l) || isScalar(r)) return readCost(typeof l === 'string' && typeof r === 'string' ? (l.length < r.length ? l : r) : 0);
      return deepCost(l, stepsLeft()) + deepCost(r, stepsLeft());
    case 'in':
      if (Array.isArray(r) || r instanceof Set) return deepCost(l, stepsLeft()) + deepCost(r, stepsLeft());
      return readCost(l);
    case '+':
      return readCost(l) + readCost(r);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return typeof l === 'string' && typeof r === 'string' ? readCost(l.length < r.length ? l : r) : 0;
    default:
      return 0;
  }
}

type Handle = (...a: unknown[]) => unknown;

function wrapBinary(node: Node): void {
  const op = node.op;
  const original = node.handle!;
  if (op === '+') {
    node.handle = (l: unknown, r: unknown, ast: unknown, ev: unknown) => {
      chargeSteps(binaryCost(op, l, r));
      const result = original(l, r, ast, ev);
      if (typeof result === 'string' || typeof result === 'object') chargeAllocation(builtSize(result));
      return result;
    };
    return;
  }
  if (op !== '==' && op !== '!=' && op !== 'in' && op !== '<' && op !== '<=' && op !== '>' && op !== '>=') return;
  node.handle = (l: unknown, r: unknown, ast: unknown, ev: unknown) => {
    if (typeof l === 'object' || typeof r === 'object' || typeof l === 'string') chargeSteps(binaryCost(op, l, r));
    return original(l, r, ast, ev);
  };
}

/** The cost of calling a function with these (already evaluated) arguments; receiver first for methods. */
function callCost(name: string, args: readonly unknown[]): number {
  switch (name) {
    case 'hasAny':
    case 'hasAll': {
      // list.includes for each wanted element: the product of the sizes
      const [a, b] = args;
      return 1 + (Array.isArray(a) ? a.length : 0) * (Array.isArray(b) ? b.length : 0);
    }
    case 'startsWith':
    case 'endsWith':
      return 1 + readCost(args[1]);
    case 'size':
      return 1;
    case 'timeOfDay':
    case 'inTimeWindow':
      return TIME_ZONE_CALL;
    default: {
      let cost = 1;
      for (let i = 0; i < args.length; i++) cost += readCost(args[i]);
      return cost;
    }
  }
}

function allocationOf(name: string, args: readonly unknown[], result: unknown): number {
  if (typeof result !== 'string' && (typeof result !== 'object' || result === null)) return 0;
  for (let i = 0; i < args.length; i++) if (args[i] === result) return 0;
  // a parsed JSON document holds as much as its text
  if (name === 'json') return Math.max(builtSize(result), builtSize(args[0]));
  return builtSize(result);
}

function wrapCall(node: Node, problems: Problem[], regexes: Map<Node, CompiledRegex>): void {
  const original = node.handle!;
  const name = (node.args as unknown[])[0] as string;
  if (node.op === 'rcall' && name === 'matches') {
    node.handle = matchesHandle(node, problems, regexes);
    return;
  }
  // Receiver calls get (args, ev, ast), plain calls (args, ast, ev): passed on as they came.
  node.handle = (args: unknown, second: unknown, third: unknown) => {
    const list = args as unknown[];
    chargeSteps(callCost(name, list));
    const result = original(args, second, third);
    chargeAllocation(allocationOf(name, list, result));
    return result;
  };
}

/** `text.matches(pattern)` on RE2: a constant pattern compiled now (errors are the condition's), others through the bounded cache. */
function matchesHandle(node: Node, problems: Problem[], regexes: Map<Node, CompiledRegex>): Handle {
  const [, , argAsts] = node.args as [string, unknown, unknown[]];
  const patternAst = argAsts[0];
  let constant: CompiledRegex | undefined;
  if (isNode(patternAst) && patternAst.op === 'value' && typeof patternAst.args === 'string') {
    const r = compileRegex(patternAst.args);
    if (r.ok) {
      constant = r.regex;
      regexes.set(node, r.regex);
    } else problems.push({ message: `matches(): ${r.error}`, start: patternAst.start });
  }
  return (args: unknown) => {
    const [text, pattern] = args as [unknown, unknown];
    if (typeof text !== 'string' || typeof pattern !== 'string') throw new Error('matches(): takes a string and a pattern string');
    let regex = constant;
    if (!regex) {
      // a pattern made at run time: its compilation is charged whether or not it was cached,
      // so the outcome never depends on what this process saw before
      chargeSteps(Math.ceil(pattern.length * PER_CHAR) + 1);
      chargeSteps(Math.min(estimateProgramSize(pattern), MAX_REGEX_PROGRAM * 2) * PER_REGEX_COMPILE);
      const r = compileRegex(pattern);
      if (!r.ok) throw new Error(`matches(): ${r.error}`);
      regex = r.regex;
    }
    chargeSteps(Math.ceil((text.length + 1) * regex.size * PER_REGEX_STEP));
    return regex.test(text);
  };
}

function wrapComprehension(node: Node, stepNodes: number): void {
  const original = node.handle!;
  const perItem = stepNodes + 1;
  node.handle = (items: unknown, args: unknown, ev: unknown, ctx: unknown) => {
    // charged before looping: a loop the budget cannot afford does not start
    chargeSteps(readCost(items) * perItem + 1);
    const result = original(items, args, ev, ctx);
    if (Array.isArray(result)) chargeAllocation(result.length);
    return result;
  };
}

const BINARY = new Set(['!=', '==', 'in', '+', '-', '*', '/', '%', '<', '<=', '>', '>=']);

function children(node: Node): unknown[] {
  const out: unknown[] = [];
  const alt = node.meta?.alternate;
  if (alt) out.push(alt);
  if (node.op === 'comprehension') {
    const a = node.args as { iterable?: unknown; init?: unknown; step?: unknown };
    out.push(a.iterable, a.init, a.step);
    return out;
  }
  const collect = (v: unknown): void => {
    if (isNode(v)) out.push(v);
    else if (Array.isArray(v)) for (const x of v) collect(x);
  };
  collect(node.args);
  return out;
}

/** Nodes reachable from `root` (alternates included), each once. */
function countNodes(root: unknown): number {
  const seen = new Set<Node>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (!isNode(v) || seen.has(v)) continue;
    seen.add(v);
    stack.push(...children(v));
  }
  return seen.size;
}

export interface Instrumented {
  /** nodes in the expression: the steps one run takes before any loop or data */
  nodes: number;
  /** compile errors found (an invalid constant pattern, a node that cannot be bounded) */
  problems: Problem[];
}

/** Wrap the handlers of a checked expression's tree. Call once per parsed expression. */
export function instrument(root: unknown): Instrumented {
  const problems: Problem[] = [];
  const regexes = new Map<Node, CompiledRegex>();
  const seen = new Set<Node>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (!isNode(v) || seen.has(v)) continue;
    seen.add(v);
    const alternate = v.meta?.alternate;
    if (!alternate) {
      if (BINARY.has(v.op) || v.op === 'call' || v.op === 'rcall' || v.op === 'comprehension') {
        if (typeof v.handle !== 'function') {
          // cel-js changed shape (or the macro is ours: related() has no handle)
          if (!((v.op === 'call' || v.op === 'rcall') && v.meta?.macro)) problems.push({ message: `cannot bound the cost of '${v.op}' (unexpected expression tree)`, start: v.start });
        } else if (BINARY.has(v.op)) wrapBinary(v);
        else if (v.op === 'comprehension') wrapComprehension(v, countNodes((v.args as { step: unknown }).step));
        else wrapCall(v, problems, regexes);
      }
    }
    stack.push(...children(v));
  }
  return { nodes: seen.size, problems };
}
