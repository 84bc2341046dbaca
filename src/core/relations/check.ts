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
//
// The walk is iterative: an explicit stack of frames (an open node; a union,
// intersection or exclusion being decided inside it; a loop over an arrow's or a
// relation's usersets, resumed where it stopped), so a deep graph costs heap, not
// JavaScript stack — however deep the depth limit lets it go (a chain of 10,000 parents
// in test/core/relations/engine.test.ts). Frames are pooled by the run and reused.

import { RelationError } from './errors.js';
import { definitionOf, type CompiledSchema, type Definition, type Rewrite } from './schema/types.js';
import { setKey, type ObjectEntry, type RelationIndex, type RelationSet, type ResourceNode, type SubjectEntry } from './relation-index.js';

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

const NO_REASONS: Reason[] = [];

// What starting a node or a rewrite gives: an answer at once, or a frame pushed whose
// answer comes later.
const FALSE = 0;
const TRUE = 1;
const PUSHED = 2;
type Step = typeof FALSE | typeof TRUE | typeof PUSHED;

// A decided node in CheckRun.nodes (open ones hold their stack position, ≥ 0).
const KNOWN_TRUE = -1;
const KNOWN_FALSE = -2;

// Frame kinds.
const NODE = 0;
const USERSETS = 1;
const ARROW = 2;
const UNION = 3;
const INTERSECTION = 4;
const EXCLUSION = 5;

/**
 * One entry of the walk's stack: an open node (object#name), or a loop or operator being
 * evaluated inside one. One shape for every kind (the VM keeps one hidden class); each
 * push sets the fields its kind reads. Frames are pooled by the run and reused.
 */
class Frame {
  kind = NODE;
  object: ObjectEntry | undefined = undefined;
  resource: ResourceNode | undefined = undefined;
  /** NODE: the definition decided */
  def: Definition | undefined = undefined;
  /** UNION, INTERSECTION: the operands */
  args: readonly Rewrite[] = [];
  /** EXCLUSION: the two sides */
  base: Rewrite | undefined = undefined;
  subtract: Rewrite | undefined = undefined;
  /** ARROW: the target per subject type */
  targets: ReadonlyMap<string, Definition> | undefined = undefined;
  /** USERSETS, ARROW: the set walked; NODE (explain): the set whose tuple led here */
  set: RelationSet | undefined = undefined;
  /** NODE (explain): that tuple's subject */
  entry: SubjectEntry | undefined = undefined;
  /** USERSETS, ARROW: where the walk over the set stands */
  iter: IterableIterator<SubjectEntry> | undefined = undefined;
  /** UNION, INTERSECTION: the operand being decided; EXCLUSION: 0 base, 1 subtract */
  i = 0;
  /** explain: the length of the node's reasons to roll back to */
  mark = 0;
  mark2 = 0;
  /** NODE: numeric id, stack position, the `low` and reasons of the node below it */
  node = 0;
  position = 0;
  outerLow = Infinity;
  outerReasons: Reason[] = NO_REASONS;
  /** NODE (explain): record this node in the parent's reasons when it holds */
  record = false;
}

export class CheckRun {
  /**
   * By node id (resource id × definitionCount + the definition's ordinal: no string per
   * node), one map for both: a node open on the stack → its position (≥ 0); a node
   * decided → KNOWN_TRUE or KNOWN_FALSE. Per request only: a memo kept across requests
   * measured slower than none (bench/RESULTS.md, 2026-12-06).
   */
  private readonly nodes = new Map<number, number>();
  private readonly stack: Frame[] = [];
  private sp = 0;
  /** open nodes on the stack */
  private depth = 0;
  /** the lowest stack position a cut reached in the walk below the current node */
  private low = Infinity;
  private reasons: Reason[] = [];
  private readonly because: Map<string, Reason[]> | undefined;
  /** `type:*` for a plain subject: the tuple that names every subject of its type */
  private readonly wildcard: string | undefined;
  /** the set keys naming the subject, and its type's wildcard (relation-index.ts memberOf) */
  private readonly memberOf: ReadonlySet<number> | undefined;
  private readonly wildcardOf: ReadonlySet<number> | undefined;
  /** by definition ordinal: the index's number for the relation's name (-1: not known yet) */
  private readonly relationIds: Int32Array;

  constructor(
    private readonly schema: CompiledSchema,
    private readonly index: RelationIndex,
    readonly subject: SubjectEntry,
    private readonly budget: Budget,
    explain = false,
  ) {
    this.because = explain ? new Map() : undefined;
    // Looked for in every set only when some set names the type's wildcard at all.
    const wildcard = subject.relation === undefined ? index.wildcard(subject.type) : undefined;
    this.wildcard = wildcard?.subjectKey;
    this.memberOf = subject.memberOf;
    this.relationIds = index.relationIdsFor(schema);
    this.wildcardOf = wildcard?.memberOf;
  }

  has(object: ObjectEntry, def: Definition): boolean {
    const first = this.enter(object, def, undefined, undefined, false);
    if (first !== PUSHED) return first === TRUE;
    try {
      return this.run();
    } catch (err) {
      // A limit ended the walk: leave the run clean (a lookup's other questions reuse it).
      this.sp = 0;
      this.depth = 0;
      this.low = Infinity;
      for (const [node, state] of this.nodes) if (state >= 0) this.nodes.delete(node);
      this.reasons = [];
      throw err;
    }
  }

  /** The proof of a true `has`, in order: nodes (`x#name`) and the tuples behind them. */
  explain(object: ObjectEntry, def: Definition): string[] {
    const root = `${object.key}#${def.name}`;
    const out = [root];
    const seen = new Set([root]);
    // Depth first, as the proof nests; an explicit stack, as deep as the proof may be.
    const stack = [{ reasons: this.because?.get(root) ?? NO_REASONS, i: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const r = top.reasons[top.i++];
      if (!r) {
        stack.pop();
        continue;
      }
      if (r.tuple) out.push(r.tuple);
      if (r.node && !seen.has(r.node)) {
        seen.add(r.node);
        out.push(r.node);
        stack.push({ reasons: this.because?.get(r.node) ?? NO_REASONS, i: 0 });
      }
    }
    return out;
  }

  /** Run the stack until the node pushed first is decided. */
  private run(): boolean {
    let resumed = false;
    let value = false;
    for (;;) {
      const step = this.step(this.stack[this.sp - 1]!, resumed, value);
      if (step === PUSHED) {
        resumed = false;
        continue;
      }
      value = step === TRUE;
      if (--this.sp === 0) return value;
      resumed = true;
    }
  }

  /**
   * Start deciding `def` on `object`: an answer at once (no tuples, the one-lookup case of
   * a relation, remembered, or open on the stack: false for this path), or a NODE pushed.
   * `set`/`entry`/`record`: the tuple and node the parent records as its reason (explain).
   */
  private enter(object: ObjectEntry, def: Definition, set: RelationSet | undefined, entry: SubjectEntry | undefined, record: boolean, known?: ResourceNode): Step {
    // Every path to a tuple starts at the object's own relations: none, nothing holds.
    // (`known`: the node of the object the caller already has open. Entries come from
    // this index, which keeps each one's node on it: no key is looked up.)
    const resource = known ?? object.node;
    if (!resource) return FALSE;
    // Most relations are answered by one lookup and lead nowhere else: no node, no memo.
    // (Not while explaining, where every node is recorded.)
    // The subject's own set of set keys answers the direct tuples without reading the set.
    if (def.kind === 'relation' && !this.because) {
      let relation = this.relationIds[def.ordinal]!;
      if (relation < 0) {
        relation = this.index.relationId(def.name);
        if (relation < 0) return FALSE;
        this.relationIds[def.ordinal] = relation;
      }
      const key = setKey(resource.id, relation);
      if (this.memberOf?.has(key) === true || this.wildcardOf?.has(key) === true) return TRUE;
      if (resource.usersets === 0) return FALSE;
      const s = resource.sets.get(def.name);
      if (!s || s.usersets.size === 0) return FALSE;
    }
    const node = resource.id * this.schema.definitionCount + def.ordinal;
    const state = this.nodes.get(node);
    if (state !== undefined) {
      if (state === KNOWN_TRUE) {
        if (record) this.proved(set, entry, object, def);
        return TRUE;
      }
      if (state === KNOWN_FALSE) return FALSE;
      // Open on the stack: false for this path, and what is decided below depends on it.
      if (state < this.low) this.low = state;
      return FALSE;
    }
    if (this.depth >= this.budget.limits.maxDepth) {
      const where = `${object.key}#${def.name}`;
      throw new RelationError('RELATION_LIMIT_EXCEEDED', `the check needs more than ${this.budget.limits.maxDepth} nested relations (depth limit), reached at ${where}`, { limit: 'depth', max: this.budget.limits.maxDepth, at: where });
    }
    this.budget.spend();
    const f = this.push(NODE);
    f.object = object;
    f.resource = resource;
    f.def = def;
    f.node = node;
    f.position = this.depth++;
    f.set = set;
    f.entry = entry;
    f.record = record;
    f.outerLow = this.low;
    this.nodes.set(node, f.position);
    this.low = Infinity;
    if (this.because) {
      f.outerReasons = this.reasons;
      this.reasons = [];
    }
    return PUSHED;
  }

  /** Decide a node once its body is decided: close it, remember what may be remembered. */
  private close(f: Frame, result: boolean): Step {
    this.depth--;
    const tainted = this.low < f.position;
    if (result || !tainted) this.nodes.set(f.node, result ? KNOWN_TRUE : KNOWN_FALSE);
    else this.nodes.delete(f.node);
    if (this.because) {
      if (result) this.because.set(`${f.object!.key}#${f.def!.name}`, this.reasons);
      this.reasons = f.outerReasons;
      if (result && f.record) this.proved(f.set, f.entry, f.object!, f.def!);
    }
    this.low = tainted ? Math.min(f.outerLow, this.low) : f.outerLow;
    return result ? TRUE : FALSE;
  }

  private push(kind: number): Frame {
    let f = this.stack[this.sp];
    if (!f) this.stack.push((f = new Frame()));
    this.sp++;
    f.kind = kind;
    return f;
  }

  /** Advance the frame on top: `resumed` when the frame it pushed last was just decided (`value`). */
  private step(f: Frame, resumed: boolean, value: boolean): Step {
    switch (f.kind) {
      case NODE: {
        const def = f.def!;
        const r = resumed ? (value ? TRUE : FALSE) : def.kind === 'relation' ? this.relation(f.resource!.sets.get(def.name)) : this.rewrite(f.object!, f.resource!, def.rewrite);
        return r === PUSHED ? PUSHED : this.close(f, r === TRUE);
      }
      case USERSETS:
      case ARROW: {
        if (resumed && value) return TRUE;
        // `for … of` on the set's own iterator: a return leaves it where it stopped (a
        // Map iterator has no `return()`), and the next step goes on from there. A
        // relation's userset leads to its own relation; an arrow's subject to its target.
        for (const e of f.iter!) {
          const d = f.kind === USERSETS ? definitionOf(this.schema, e.type, e.relation!) : f.targets!.get(e.type);
          if (!d) continue;
          this.budget.spend();
          const r = this.enter(e.object, d, f.set, e, true);
          if (r !== FALSE) return r;
        }
        return FALSE;
      }
      case UNION: {
        if (resumed) {
          if (value) return TRUE;
          if (this.because) this.reasons.length = f.mark;
          f.i++;
        }
        for (; f.i < f.args.length; f.i++) {
          if (this.because) f.mark = this.reasons.length;
          const r = this.rewrite(f.object!, f.resource!, f.args[f.i]!);
          if (r !== FALSE) return r;
          if (this.because) this.reasons.length = f.mark;
        }
        return FALSE;
      }
      case INTERSECTION: {
        if (resumed) {
          if (!value) return this.rollback(f.mark, FALSE);
          f.i++;
        }
        for (; f.i < f.args.length; f.i++) {
          const r = this.rewrite(f.object!, f.resource!, f.args[f.i]!);
          if (r === PUSHED) return PUSHED;
          if (r === FALSE) return this.rollback(f.mark, FALSE);
        }
        return TRUE;
      }
      case EXCLUSION: {
        let excluded: boolean;
        if (f.i === 0) {
          let base: boolean;
          if (resumed) base = value;
          else {
            const r = this.rewrite(f.object!, f.resource!, f.base!);
            if (r === PUSHED) return PUSHED;
            base = r === TRUE;
          }
          if (!base) return this.rollback(f.mark, FALSE);
          f.i = 1;
          if (this.because) f.mark2 = this.reasons.length;
          const r = this.rewrite(f.object!, f.resource!, f.subtract!);
          if (r === PUSHED) return PUSHED;
          excluded = r === TRUE;
        } else excluded = value;
        return excluded ? this.rollback(f.mark, FALSE) : this.rollback(f.mark2, TRUE);
      }
    }
    throw new Error(`unknown frame kind ${f.kind}`);
  }

  /** A relation's body (a NODE): its direct subjects, then each userset it names. */
  private relation(set: RelationSet | undefined): Step {
    if (!set) return FALSE;
    const s = this.subject;
    if (set.subjects.has(s.subjectKey)) return this.provedTuple(`${set.key}@${s.subjectKey}`);
    if (this.wildcard !== undefined && set.subjects.has(this.wildcard)) return this.provedTuple(`${set.key}@${this.wildcard}`);
    if (set.usersets.size === 0) return FALSE;
    const f = this.push(USERSETS);
    f.set = set;
    f.iter = set.usersets.values();
    return PUSHED;
  }

  /** Start a rewrite inside the open node: a reference enters a node, the rest push a frame. */
  private rewrite(object: ObjectEntry, resource: ResourceNode, r: Rewrite): Step {
    switch (r.op) {
      case 'ref':
        return this.enter(object, r.def, undefined, undefined, true, resource);
      case 'arrow': {
        const set = resource.sets.get(r.via.name);
        if (!set) return FALSE;
        const f = this.push(ARROW);
        f.set = set;
        f.iter = set.subjects.values();
        f.targets = r.targets;
        return PUSHED;
      }
      case 'union':
      case 'intersection': {
        const f = this.push(r.op === 'union' ? UNION : INTERSECTION);
        f.object = object;
        f.resource = resource;
        f.args = r.args;
        f.i = 0;
        f.mark = this.reasons.length;
        return PUSHED;
      }
      case 'exclusion': {
        const f = this.push(EXCLUSION);
        f.object = object;
        f.resource = resource;
        f.base = r.base;
        f.subtract = r.subtract;
        f.i = 0;
        f.mark = this.reasons.length;
        return PUSHED;
      }
    }
  }

  /** Explain: drop the reasons recorded since `mark` (a branch that did not prove). */
  private rollback(mark: number, step: Step): Step {
    if (this.because) this.reasons.length = mark;
    return step;
  }

  private provedTuple(tuple: string): Step {
    if (this.because) this.reasons.push({ tuple });
    return TRUE;
  }

  private proved(set: RelationSet | undefined, entry: SubjectEntry | undefined, object: ObjectEntry, def: Definition): void {
    if (!this.because) return;
    const node = `${object.key}#${def.name}`;
    this.reasons.push(set && entry ? { tuple: `${set.key}@${entry.subjectKey}`, node } : { node });
  }
}
