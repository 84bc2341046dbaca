// One check over the in-memory index: does `subject` have `def` on an object? A
// depth-first walk of the schema's rewrites over the tuples, bounded three ways (depth,
// steps, deadline) so no graph can make it hang, and safe on cycles:
//
// A node (object#name) already on the walk's stack counts as false *for this path*,
// which is exactly the least fixpoint as long as no result that depended on such a cut
// is reused elsewhere: a result is memoized only when it is true (a proof is a proof) or
// when no cut below it reached a node still open above it. Exclusion needs no more: the
// schema refuses recursion through the subtracted side, so a subtrahend never meets an
// open node. With `explain`, each true node keeps the tuples and nodes that proved it.

import { RelationError } from './errors.js';
import { definitionOf, type CompiledSchema, type Definition, type Rewrite } from './schema/types.js';
import type { ObjectEntry, RelationIndex, RelationSet, ResourceNode, SubjectEntry } from './relation-index.js';

export interface EngineLimits {
  /** nested nodes on one walk (an arrow or userset hop adds one) */
  maxDepth: number;
  /** nodes and tuple edges visited by one request (its fan-out, in all) */
  maxSteps: number;
  /** wall time for one request, in ms */
  deadlineMs: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = { maxDepth: 50, maxSteps: 1_000_000, deadlineMs: 1000 };

/** The steps and time one request may spend, shared by every walk it makes. */
export class Budget {
  private steps = 0;
  private readonly deadline: number;
  constructor(readonly limits: EngineLimits, now = performance.now()) {
    this.deadline = now + limits.deadlineMs;
  }

  spend(): void {
    if (++this.steps > this.limits.maxSteps) {
      throw new RelationError('RELATION_LIMIT_EXCEEDED', `the request visited more than ${this.limits.maxSteps} nodes and tuples (fan-out limit)`, { limit: 'steps', max: this.limits.maxSteps });
    }
    // Reading the clock costs more than a step: look every 256 steps.
    if ((this.steps & 255) === 0 && performance.now() > this.deadline) {
      throw new RelationError('RELATION_DEADLINE_EXCEEDED', `the request took longer than its deadline of ${this.limits.deadlineMs} ms`, { limit: 'deadline', ms: this.limits.deadlineMs });
    }
  }

  get used(): number {
    return this.steps;
  }
}

interface Reason {
  tuple?: string;
  node?: string;
}

export class CheckRun {
  /** by node id: resource id × definitionCount + the definition's ordinal (no string per node) */
  private readonly memo = new Map<number, boolean>();
  private readonly open = new Map<number, number>();
  private depth = 0;
  /** the lowest stack position a cut reached in the walk below the current node */
  private low = Infinity;
  private reasons: Reason[] = [];
  private readonly because: Map<string, Reason[]> | undefined;
  /** `type:*` for a plain subject: the tuple that names every subject of its type */
  private readonly wildcard: string | undefined;

  constructor(
    private readonly schema: CompiledSchema,
    private readonly index: RelationIndex,
    readonly subject: SubjectEntry,
    private readonly budget: Budget,
    explain = false,
  ) {
    this.because = explain ? new Map() : undefined;
    this.wildcard = subject.relation === undefined ? `${subject.type}:*` : undefined;
  }

  has(object: ObjectEntry, def: Definition): boolean {
    // Every path to a tuple starts at the object's own relations: none, nothing holds.
    const resource = this.index.resource(object.key);
    if (!resource) return false;
    // Most relations are answered by one lookup and lead nowhere else: no node, no memo.
    // (Not while explaining, where every node is recorded.)
    if (def.kind === 'relation' && !this.because) {
      const set = resource.sets.get(def.name);
      if (!set) return false;
      if (set.subjects.has(this.subject.subjectKey) || (this.wildcard !== undefined && set.subjects.has(this.wildcard))) return true;
      if (set.usersets.size === 0) return false;
    }
    const node = resource.id * this.schema.definitionCount + def.ordinal;
    const known = this.memo.get(node);
    if (known !== undefined) return known;
    const at = this.open.get(node);
    if (at !== undefined) {
      if (at < this.low) this.low = at;
      return false;
    }
    if (this.depth >= this.budget.limits.maxDepth) {
      const at = `${object.key}#${def.name}`;
      throw new RelationError('RELATION_LIMIT_EXCEEDED', `the check needs more than ${this.budget.limits.maxDepth} nested relations (depth limit), reached at ${at}`, { limit: 'depth', max: this.budget.limits.maxDepth, at });
    }
    this.budget.spend();
    const position = this.depth++;
    this.open.set(node, position);
    const outerLow = this.low;
    const outerReasons = this.reasons;
    this.low = Infinity;
    this.reasons = [];
    let result: boolean;
    try {
      result = def.kind === 'relation' ? this.relation(resource.sets.get(def.name)) : this.rewrite(object, resource, def.rewrite);
    } finally {
      this.open.delete(node);
      this.depth--;
    }
    const tainted = this.low < position;
    if (result || !tainted) this.memo.set(node, result);
    if (result && this.because) this.because.set(`${object.key}#${def.name}`, this.reasons);
    this.reasons = outerReasons;
    this.low = tainted ? Math.min(outerLow, this.low) : outerLow;
    return result;
  }

  /** The proof of a true `has`, in order: nodes (`x#name`) and the tuples behind them. */
  explain(object: ObjectEntry, def: Definition): string[] {
    const root = `${object.key}#${def.name}`;
    const out = [root];
    const seen = new Set([root]);
    const walk = (node: string) => {
      for (const r of this.because?.get(node) ?? []) {
        if (r.tuple) out.push(r.tuple);
        if (r.node && !seen.has(r.node)) {
          seen.add(r.node);
          out.push(r.node);
          walk(r.node);
        }
      }
    };
    walk(root);
    return out;
  }

  private relation(set: RelationSet | undefined): boolean {
    if (!set) return false;
    const s = this.subject;
    if (set.subjects.has(s.subjectKey)) return this.proved(`${set.key}@${s.subjectKey}`);
    if (this.wildcard !== undefined && set.subjects.has(this.wildcard)) return this.proved(`${set.key}@${this.wildcard}`);
    for (const u of set.usersets.values()) {
      const d = definitionOf(this.schema, u.type, u.relation!);
      if (!d) continue;
      this.budget.spend();
      if (this.has(u.object, d)) return this.proved(`${set.key}@${u.subjectKey}`, `${u.object.key}#${u.relation}`);
    }
    return false;
  }

  private rewrite(object: ObjectEntry, resource: ResourceNode, r: Rewrite): boolean {
    switch (r.op) {
      case 'ref':
        return this.has(object, r.def) && this.proved(undefined, `${object.key}#${r.def.name}`);
      case 'arrow': {
        const set = resource.sets.get(r.via.name);
        if (!set) return false;
        for (const e of set.subjects.values()) {
          const target = r.targets.get(e.type);
          if (!target) continue;
          this.budget.spend();
          if (this.has(e.object, target)) return this.proved(`${set.key}@${e.subjectKey}`, `${e.object.key}#${target.name}`);
        }
        return false;
      }
      case 'union':
        for (const a of r.args) {
          const mark = this.reasons.length;
          if (this.rewrite(object, resource, a)) return true;
          this.reasons.length = mark;
        }
        return false;
      case 'intersection': {
        const mark = this.reasons.length;
        for (const a of r.args) {
          if (!this.rewrite(object, resource, a)) {
            this.reasons.length = mark;
            return false;
          }
        }
        return true;
      }
      case 'exclusion': {
        const mark = this.reasons.length;
        if (!this.rewrite(object, resource, r.base)) {
          this.reasons.length = mark;
          return false;
        }
        const beforeSubtract = this.reasons.length;
        const excluded = this.rewrite(object, resource, r.subtract);
        this.reasons.length = excluded ? mark : beforeSubtract;
        return !excluded;
      }
    }
  }

  private proved(tuple: string | undefined, node?: string): true {
    if (this.because) this.reasons.push({ ...(tuple !== undefined ? { tuple } : {}), ...(node !== undefined ? { node } : {}) });
    return true;
  }
}
