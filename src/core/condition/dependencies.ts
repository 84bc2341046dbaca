// What a condition reads, found by walking its syntax tree: attribute paths under the
// root variables (so the decision cache keys exactly those), `now`, the predicates it
// names, and the nesting of comprehensions (bounded to keep the cost linear).

export interface ConditionReads {
  /**
   * Paths read, as segments under a root variable: `['subject', 'attributes', 'mfa']`,
   * `['context', 'mfa.verified']` (one key with a dot in it, not `context.mfa.verified`);
   * a root alone = all of it. Keyed by `pathKey(segments)`, so each path is held once.
   */
  paths: Map<string, readonly string[]>;
  now: boolean;
  predicates: Set<string>;
  /** the expression calls related(): its value depends on the relationship graph's revision (absent = false) */
  relations?: boolean;
}

export function emptyReads(): ConditionReads {
  return { paths: new Map(), now: false, predicates: new Set(), relations: false };
}

/** An injective text for a list of segments (JSON: segments may hold `.`, `"` or anything). */
export function pathKey(segments: readonly string[]): string {
  return JSON.stringify(segments);
}

export function addPath(reads: ConditionReads, segments: readonly string[]): void {
  const key = pathKey(segments);
  if (!reads.paths.has(key)) reads.paths.set(key, [...segments]);
}

export function mergeReads(into: ConditionReads, from: ConditionReads): void {
  for (const [key, segments] of from.paths) if (!into.paths.has(key)) into.paths.set(key, segments);
  for (const p of from.predicates) into.predicates.add(p);
  if (from.now) into.now = true;
  if (from.relations) into.relations = true;
}

interface Node {
  op: string;
  args: unknown;
  start?: number;
}

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const ROOTS = new Set(['subject', 'context', 'resource', 'ns']);

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).op === 'string';
}

/**
 * `['subject', 'attributes', 'mfa']` for a chain of field selections and string-literal
 * indexes ending in a variable; undefined when any step is something else (a dynamic
 * index, a call…): the caller then records what that step's operands read (a root read
 * whole), which covers every key the index could pick.
 */
function accessPath(node: Node): string[] | undefined {
  const parts: string[] = [];
  let cur: Node = node;
  for (;;) {
    if (cur.op === 'id') {
      parts.unshift(String(cur.args));
      return parts;
    }
    const args = cur.args as unknown[];
    if (cur.op === '.' || cur.op === '.?') parts.unshift(String(args[1]));
    else if ((cur.op === '[]' || cur.op === '[?]') && isNode(args[1]) && args[1].op === 'value' && typeof args[1].args === 'string') parts.unshift(args[1].args);
    else return undefined;
    if (!isNode(args[0])) return undefined;
    cur = args[0];
  }
}

export interface WalkResult {
  reads: ConditionReads;
  /** deepest nesting of comprehension macros */
  macroDepth: number;
}

export function analyseCondition(ast: unknown, predicateNames: ReadonlySet<string>): WalkResult {
  const reads = emptyReads();
  let macroDepth = 0;
  const bound = new Set<string>();
  const visit = (v: unknown, depth: number): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth);
      return;
    }
    if (!isNode(v)) return;
    if (v.op === '.' || v.op === '.?' || v.op === '[]' || v.op === '[?]') {
      const path = accessPath(v);
      if (path && ROOTS.has(path[0]!) && !bound.has(path[0]!)) {
        // subject.attributes.x / context.x / resource.attributes.x are tracked to the key
        // that matters; deeper parts of the value are part of that value.
        const cut = path[0] === 'context' ? 2 : 3;
        addPath(reads, path.slice(0, cut));
        return;
      }
    }
    if (v.op === 'id') {
      const name = String(v.args);
      if (bound.has(name)) return;
      if (name === 'now') reads.now = true;
      else if (ROOTS.has(name)) addPath(reads, [name]);
      else if (predicateNames.has(name)) reads.predicates.add(name);
      return;
    }
    if (v.op === 'call' && (v.args as unknown[])[0] === 'related') reads.relations = true;
    if (v.op === 'rcall') {
      const [name, target, args] = v.args as [string, unknown, unknown[]];
      visit(target, depth);
      if (MACROS.has(name) && Array.isArray(args) && isNode(args[0]) && args[0].op === 'id') {
        const variable = String(args[0].args);
        const nested = depth + 1;
        if (nested > macroDepth) macroDepth = nested;
        const shadowed = bound.has(variable);
        bound.add(variable);
        visit(args.slice(1), nested);
        if (!shadowed) bound.delete(variable);
        return;
      }
      visit(args, depth);
      return;
    }
    visit(v.args, depth);
  };
  visit(ast, 0);
  return { reads, macroDepth };
}
