// Residualizing a rule's CEL condition for a query plan (SPEC §11): every part that
// does not read `resource` is evaluated now, against the request's subject, context and
// the clock, exactly as the condition runner would; what reads `resource.*` becomes
// filter terms. CEL is three-valued here (true, false, error) and an error matters: a
// failed condition keeps its rule's grant out but still applies its revoke and deny.
// So a condition becomes two filters, `t` (it holds) and `f` (it is false); where
// neither holds it errors (a missing attribute, for instance).
//
// What has no filter form (a function over a resource field, two resource fields
// compared, a comprehension over the resource) throws Unsupported; the planner refuses
// the plan or, asked for a partial one, over-approximates the rule.

import type { Environment } from '@marcbachmann/cel-js';
import { lazyPackage } from '../lazy-package.js';
import type { CompiledPolicy } from '../compile/types.js';
import { conditionEnvironment } from '../condition/environment.js';
import { instrument } from '../condition/instrument.js';
import { chargeSteps, enterBudget, leaveBudget, type CelBudget } from '../condition/budget.js';
import { and, cmp, exists, FALSE, not, or, TRUE, type Filter, type Scalar } from './filter.js';
import type { CompiledRegistry } from '../registry/types.js';
import { PolicyEngineError } from '../../errors.js';

const celJs = lazyPackage<typeof import('@marcbachmann/cel-js')>('@marcbachmann/cel-js');
/** A CEL node back to its text (cel-js, loaded by the first condition compiled). */
const serialize = (node: unknown): string => celJs().serialize(node as never);

export class Unsupported extends Error {}

/** A condition as filters: where it holds, and where it is false (elsewhere it errors). */
export interface Residual {
  readonly t: Filter;
  readonly f: Filter;
}

export const HOLDS: Residual = { t: TRUE, f: FALSE };
export const ERRORS: Residual = { t: FALSE, f: FALSE };

/**
 * A residual whose two filters are built when first read: a grant reads only `t`, a
 * revoke only `f`, so half of the junctions are never built. What can fail (Unsupported)
 * is decided before: the thunks only combine filters.
 */
class Lazy implements Residual {
  private tf: Filter | undefined;
  private ff: Filter | undefined;
  constructor(private readonly makeT: () => Filter, private readonly makeF: () => Filter) {}
  get t(): Filter {
    return (this.tf ??= this.makeT());
  }
  get f(): Filter {
    return (this.ff ??= this.makeF());
  }
}

interface Node {
  op: string;
  args: unknown;
}

type Sym =
  | { k: 'v'; v: unknown }
  | { k: 'e' }
  | { k: 'b'; r: Residual }
  /** a part of the resource: [] the resource, ['id'], ['attributes', …] */
  | { k: 'r'; path: string[] };

/** `related(…)` over the resource: the ids of resources of `type` the subject has `permission` on. */
export type RelatedIds = (subject: string, type: string, permission: string) => readonly string[];

export interface ResidualContext {
  /** the activation conditions of this document see (subject, context, ns, now…); undefined: the inputs are invalid */
  activation: object | undefined;
  budget: CelBudget;
  registry: CompiledRegistry | undefined;
  resourceType: string | undefined;
  subjectId: string;
  /** absent: related() over the resource has no filter form here */
  related?: RelatedIds;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).op === 'string';
}

const readsCache = new WeakMap<object, boolean>();

/** Does the tree read the variable `resource`? (remembered per node: trees are parsed once per document version) */
export function readsResource(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(readsResource);
  if (!isNode(v)) return false;
  if (v.op === 'id') return v.args === 'resource';
  if (v.op === 'value') return false;
  let known = readsCache.get(v);
  if (known === undefined) {
    known = readsResource(v.args);
    readsCache.set(v, known);
  }
  return known;
}

/** The environment subtrees are evaluated in, per registry (untyped: one). */
const environments = new WeakMap<object, Environment>();
const UNTYPED = {};

function environmentFor(registry: CompiledRegistry | undefined): Environment {
  const key = registry ?? UNTYPED;
  let env = environments.get(key);
  if (!env) {
    env = conditionEnvironment([], registry);
    environments.set(key, env);
  }
  return env;
}

/** Parsed conditions with their document's predicates inlined, per source text and document. */
const parsedTrees = new WeakMap<CompiledPolicy, Map<string, unknown>>();

function parseTree(policy: CompiledPolicy, source: string, registry: CompiledRegistry | undefined): unknown {
  let perDoc = parsedTrees.get(policy);
  if (!perDoc) parsedTrees.set(policy, (perDoc = new Map()));
  const known = perDoc.get(source);
  if (known) return known;
  const names = [...policy.predicates.keys()];
  const env = conditionEnvironment(names, policy.typed ? registry : undefined);
  const trees = new Map<string, unknown>();
  const inline = (v: unknown, depth: number): unknown => {
    if (depth > 64) throw new Unsupported('predicates nest too deep');
    if (Array.isArray(v)) return v.map((x) => inline(x, depth));
    if (!isNode(v)) return v;
    if (v.op === 'id' && typeof v.args === 'string' && policy.predicates.has(v.args)) {
      let t = trees.get(v.args);
      if (t === undefined) {
        t = inline(env.parse(policy.predicates.get(v.args)!.source).ast, depth + 1);
        trees.set(v.args, t);
      }
      return t;
    }
    if (v.op === 'value') return v;
    return { op: v.op, args: inline(v.args, depth) };
  };
  const tree = inline(env.parse(source).ast, 0);
  perDoc.set(source, tree);
  return tree;
}

/** The condition's tree with predicates inlined (parsed once per document version). */
export function conditionTree(policy: CompiledPolicy, source: string, registry: CompiledRegistry | undefined): unknown {
  return parseTree(policy, source, registry);
}

const texts = new WeakMap<object, string>();
const concreteCache = new Map<string, { run: (a: object) => unknown; nodes: number } | { error: string }>();

function concrete(node: unknown, ctx: ResidualContext, env: Environment): Sym {
  if (isNode(node) && node.op === 'value') return { k: 'v', v: node.args };
  let text = texts.get(node as object);
  if (text === undefined) {
    text = serialize(node);
    texts.set(node as object, text);
  }
  let c = concreteCache.get(text);
  if (!c) {
    try {
      const parsed = env.parse(text);
      const { nodes } = instrument(parsed.ast);
      c = { run: parsed as unknown as (a: object) => unknown, nodes };
    } catch (err) {
      c = { error: String((err as Error).message ?? err) };
    }
    if (concreteCache.size > 5000) concreteCache.clear();
    concreteCache.set(text, c);
  }
  if ('error' in c || ctx.activation === undefined) return { k: 'e' };
  if (ctx.budget.reason()) return { k: 'e' };
  const previous = enterBudget(ctx.budget);
  try {
    chargeSteps(c.nodes);
    return { k: 'v', v: c.run(ctx.activation) };
  } catch {
    return { k: 'e' };
  } finally {
    leaveBudget(previous);
  }
}

const PLAIN_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Paths already found to be fields, by their segments (they come from policies: bounded, cleared past the bound). */
const knownFields = new Map<string, string>();

function fieldOf(path: readonly string[]): string {
  if (path.length === 1 && path[0] === 'id') return 'id';
  // length-prefixed segments (any character may be in one): ['attributes', 'a.b'] is not ['attributes', 'a', 'b']
  let segments = '';
  for (const s of path) segments += `${s.length}:${s}`;
  const known = knownFields.get(segments);
  if (known !== undefined) return known;
  if (path.length >= 2 && path[0] === 'attributes' && path.slice(1).every((s) => PLAIN_SEGMENT.test(s))) {
    if (knownFields.size >= 10_000) knownFields.clear();
    const field = path.join('.');
    knownFields.set(segments, field);
    return field;
  }
  throw new Unsupported(`resource.${path.join('.')} is not a field a filter can read (id or attributes.<name>)`);
}

/** A CEL value as a filter value; undefined when it is none (a list, a map, a timestamp…). */
function scalar(v: unknown): Scalar | null | undefined {
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v === null) return null;
  return undefined;
}

function bool(s: Sym): Residual {
  switch (s.k) {
    case 'b': return s.r;
    case 'e': return ERRORS;
    case 'v': return s.v === true ? HOLDS : s.v === false ? { t: FALSE, f: TRUE } : ERRORS;
    case 'r': {
      const field = fieldOf(s.path);
      return { t: cmp('eq', field, true), f: cmp('eq', field, false) };
    }
  }
}

const FLIP: Record<string, string> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function compare(op: string, field: string, value: unknown): Sym {
  const v = scalar(value);
  if (v === undefined) throw new Unsupported(`comparing ${field} with a ${typeof value === 'object' ? 'list or map' : typeof value} has no filter form`);
  if (v === null) {
    // present: never equal to null; missing: an error
    if (op === '==') return { k: 'b', r: { t: FALSE, f: exists(field) } };
    if (op === '!=') return { k: 'b', r: { t: exists(field), f: FALSE } };
    return { k: 'e' };
  }
  switch (op) {
    case '==': return { k: 'b', r: { t: cmp('eq', field, v), f: cmp('ne', field, v) } };
    case '!=': return { k: 'b', r: { t: cmp('ne', field, v), f: cmp('eq', field, v) } };
    case '<': return { k: 'b', r: { t: cmp('lt', field, v), f: cmp('ge', field, v) } };
    case '<=': return { k: 'b', r: { t: cmp('le', field, v), f: cmp('gt', field, v) } };
    case '>': return { k: 'b', r: { t: cmp('gt', field, v), f: cmp('le', field, v) } };
    default: return { k: 'b', r: { t: cmp('ge', field, v), f: cmp('lt', field, v) } };
  }
}

function listOf(v: unknown, node: unknown): Scalar[] {
  let items: unknown[];
  if (Array.isArray(v)) items = v;
  else if (v instanceof Map) items = [...v.keys()];
  else if (v !== null && typeof v === 'object') items = Object.keys(v);
  else throw new Unsupported(`${serialize(node)}: the right side of in is not a list`);
  return items.map((x) => {
    const s = scalar(x);
    if (s === undefined || s === null) throw new Unsupported(`${serialize(node)}: a list of scalars is needed`);
    return s;
  });
}

/** `resource.<a>.<b>` nodes (the tree's own, parsed once per document version) and the path they name. */
const resourcePaths = new WeakMap<object, Sym>();

export class Residualizer {
  private readonly env: Environment;

  constructor(private readonly ctx: ResidualContext, policy: CompiledPolicy) {
    this.env = environmentFor(policy.typed ? ctx.registry : undefined);
  }

  /** The residual of a whole condition (a tree from conditionTree). */
  condition(tree: unknown): Residual {
    return bool(this.sym(tree));
  }

  private sym(node: unknown): Sym {
    if (!isNode(node)) throw new Unsupported('unexpected expression');
    if (!readsResource(node)) return concrete(node, this.ctx, this.env);
    const args = node.args as unknown[];
    switch (node.op) {
      case 'id':
        return { k: 'r', path: [] };
      case '.':
      case '[]': {
        // a field path (resource.attributes.owner) is the same in every plan: made once per tree node
        const known = node.op === '.' ? resourcePaths.get(node) : undefined;
        if (known) return known;
        const target = this.sym(args[0]);
        const key = node.op === '.' ? args[1] : this.sym(args[1]);
        let name: unknown = key;
        if (node.op === '[]') {
          const k = key as Sym;
          if (k.k !== 'v') throw new Unsupported(`a computed key over the resource: ${serialize(node)}`);
          name = k.v;
        }
        if (target.k !== 'r' || typeof name !== 'string') throw new Unsupported(`no filter form for ${serialize(node)}`);
        if (target.path.length === 0 && name === 'type') return this.ctx.resourceType === undefined ? { k: 'e' } : { k: 'v', v: this.ctx.resourceType };
        const made: Sym = { k: 'r', path: [...target.path, name] };
        // only a chain of '.' from `resource` itself (a computed key, resource.attributes[context.k], depends on the request)
        const from = args[0];
        if (node.op === '.' && isNode(from) && (from.op === 'id' || resourcePaths.has(from))) resourcePaths.set(node, made);
        return made;
      }
      case '&&': {
        const a = bool(this.sym(args[0])), b = bool(this.sym(args[1]));
        return { k: 'b', r: new Lazy(() => and(a.t, b.t), () => or(a.f, b.f)) };
      }
      case '||': {
        const a = bool(this.sym(args[0])), b = bool(this.sym(args[1]));
        return { k: 'b', r: new Lazy(() => or(a.t, b.t), () => and(a.f, b.f)) };
      }
      case '!_': {
        const a = bool(this.sym(node.args));
        return { k: 'b', r: { t: a.f, f: a.t } };
      }
      case '?:': {
        const c = bool(this.sym(args[0])), x = bool(this.sym(args[1])), y = bool(this.sym(args[2]));
        return { k: 'b', r: new Lazy(() => or(and(c.t, x.t), and(c.f, y.t)), () => or(and(c.t, x.f), and(c.f, y.f))) };
      }
      case '==': case '!=': case '<': case '<=': case '>': case '>=': {
        const a = this.sym(args[0]), b = this.sym(args[1]);
        if (a.k === 'e' || b.k === 'e') return { k: 'e' };
        if (a.k === 'r' && b.k === 'v') return compare(node.op, fieldOf(a.path), b.v);
        if (b.k === 'r' && a.k === 'v') return compare(FLIP[node.op]!, fieldOf(b.path), a.v);
        throw new Unsupported(`no filter form for ${serialize(node)}`);
      }
      case 'in': {
        const a = this.sym(args[0]), b = this.sym(args[1]);
        if (a.k === 'e' || b.k === 'e') return { k: 'e' };
        if (a.k === 'r' && b.k === 'v') {
          const field = fieldOf(a.path);
          const list = listOf(b.v, node);
          return { k: 'b', r: new Lazy(() => cmp('in', field, list), () => and(exists(field), not(cmp('in', field, list)))) };
        }
        if (a.k === 'v' && b.k === 'r') {
          const field = fieldOf(b.path);
          const v = scalar(a.v);
          if (v === undefined || v === null) throw new Unsupported(`${serialize(node)}: the value is not a scalar`);
          return { k: 'b', r: new Lazy(() => cmp('contains', field, v), () => and(exists(field), not(cmp('contains', field, v)))) };
        }
        throw new Unsupported(`no filter form for ${serialize(node)}`);
      }
      case 'call': {
        const [name, callArgs] = args as [string, unknown[]];
        if (name === 'has' && callArgs.length === 1) {
          const inner = callArgs[0];
          if (isNode(inner) && inner.op === '.') {
            const [target, key] = inner.args as [unknown, string];
            const t = this.sym(target);
            if (t.k === 'r') {
              if (t.path.length === 0) {
                // type and id are there when the request names them; attributes always
                if (key === 'attributes') return { k: 'v', v: true };
                if (key === 'type') return { k: 'v', v: this.ctx.resourceType !== undefined };
              }
              const field = fieldOf([...t.path, key]);
              return { k: 'b', r: { t: exists(field), f: exists(field, false) } };
            }
          }
        }
        if (name === 'related' && (callArgs.length === 2 || callArgs.length === 3)) return this.related(callArgs);
        throw new Unsupported(`${name}() over the resource has no filter form`);
      }
      default:
        throw new Unsupported(`no filter form for ${serialize(node)}`);
    }
  }

  /** related(resource, permission) / related(subject, resource, permission) with the resource `"<type>:" + resource.id`. */
  private related(callArgs: unknown[]): Sym {
    const [subjectNode, resourceNode, permissionNode] = callArgs.length === 2 ? [undefined, callArgs[0], callArgs[1]] : callArgs;
    if (readsResource(permissionNode) || (subjectNode !== undefined && readsResource(subjectNode))) throw new Unsupported('related(): only the resource may depend on the resource');
    const r = resourceNode as Node;
    const parts = isNode(r) && r.op === '+' ? (r.args as unknown[]) : undefined;
    const prefix = parts && isNode(parts[0]) ? this.sym(parts[0]) : undefined;
    const id = parts ? this.sym(parts[1]) : undefined;
    if (!prefix || prefix.k !== 'v' || typeof prefix.v !== 'string' || !/^[A-Za-z0-9_-]+:$/.test(prefix.v) || id?.k !== 'r' || id.path.join('.') !== 'id') {
      throw new Unsupported('related() over the resource needs the form related("<type>:" + resource.id, …)');
    }
    if (!this.ctx.related) throw new Unsupported('related() over the resource: no relationship index here');
    const permission = this.sym(permissionNode);
    const subject = subjectNode === undefined ? { k: 'v' as const, v: this.ctx.subjectId } : this.sym(subjectNode);
    if (permission.k !== 'v' || subject.k !== 'v' || typeof permission.v !== 'string' || typeof subject.v !== 'string') return { k: 'e' };
    let ids: readonly string[];
    try {
      ids = this.ctx.related(subject.v, prefix.v.slice(0, -1), permission.v);
    } catch (err) {
      if (err instanceof PolicyEngineError) throw err;
      return { k: 'e' };
    }
    return { k: 'b', r: new Lazy(() => cmp('in', 'id', [...ids]), () => and(exists('id'), not(cmp('in', 'id', [...ids])))) };
  }
}
