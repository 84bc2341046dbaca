// Running Lua during one evaluation: rule chunks as conditions, script documents as
// effects, facts checked against the registry. Any failure is an outcome, never a throw.

import { mustParsePattern, parsePattern, type Pattern } from '../pattern.js';
import type { CompiledPolicy, CompiledRule, LuaRef } from '../compile/types.js';
import type { CompiledRegistry } from '../registry/types.js';
import { checkAttribute } from '../registry/validate-input.js';
import { compileScriptMessage } from '../messages/compile-message.js';
import type { EvaluationInput } from './types.js';

/** `invalidResult`: it ran, and returned neither a boolean nor a table (a check by key answers 400). */
export type ScriptOutcome = { effects: CompiledRule | undefined; value: unknown } | { error: string; invalidResult?: true };

const MAX_EFFECT_PATTERNS = 256;

/** Inputs as Lua sees them: plain data (dates as ISO strings); built once per evaluation. */
function luaValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(luaValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = luaValue(x);
    return out;
  }
  return v;
}

function patterns(value: unknown, field: string): Pattern[] {
  if (value === undefined || value === null) return [];
  // wasmoon turns a Lua sequence into an array; an empty table into {}.
  const list = Array.isArray(value) ? value : typeof value === 'object' && Object.keys(value).length === 0 ? [] : undefined;
  if (!list) throw new Error(`${field} must be a list of permission patterns`);
  if (list.length > MAX_EFFECT_PATTERNS) throw new Error(`${field} has more than ${MAX_EFFECT_PATTERNS} patterns`);
  return list.map((p) => {
    if (typeof p !== 'string' || typeof parsePattern(p) === 'string') throw new Error(`${field}: ${JSON.stringify(String(p).slice(0, 80))} is not a permission pattern`);
    return mustParsePattern(p);
  });
}

interface LuaInputs {
  subject: unknown;
  resource: unknown;
  context: unknown;
}

function has(v: unknown, k: string): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, k);
}

/** Copy `path` (root first) from `all` into `into`, where it exists. */
function copyPath(all: Record<string, unknown>, into: Record<string, unknown>, path: readonly string[]): void {
  let src: unknown = all;
  let dst = into;
  for (let i = 0; i < path.length; i++) {
    const k = path[i]!;
    if (!has(src, k)) return;
    src = src[k];
    if (i === path.length - 1) dst[k] = src;
    else {
      if (!has(dst, k) || dst[k] === null || typeof dst[k] !== 'object') dst[k] = {};
      dst = dst[k] as Record<string, unknown>;
    }
  }
}

/**
 * The inputs a script document declared it reads, and nothing else (so the decision
 * cache, keyed by those, can never hold an answer that depended on anything more). The
 * subject's id, roles and groups are always there: every key holds them.
 */
export function projectInputs(all: LuaInputs, reads: ReadonlyArray<readonly string[]>): LuaInputs {
  const subject = all.subject as Record<string, unknown>;
  const out: Record<string, unknown> = {
    subject: { id: subject.id, roles: subject.roles, groups: subject.groups, attributes: {} },
    resource: {},
    context: {},
  };
  for (const path of reads) copyPath(all as unknown as Record<string, unknown>, out, path);
  return out as unknown as LuaInputs;
}

export class LuaRunner {
  private inputs: LuaInputs | undefined;
  /** the inputs projected to each set of declared reads (one per script document) */
  private projected: Map<ReadonlyArray<readonly string[]>, LuaInputs> | undefined;
  /** facts emitted so far in this evaluation, in run order */
  readonly facts: Record<string, unknown> = {};

  constructor(private readonly input: EvaluationInput, private readonly now: Date, private readonly registry: CompiledRegistry | undefined) {}

  private call(ref: LuaRef, policy: CompiledPolicy): unknown {
    this.inputs ??= {
      subject: luaValue({ id: this.input.subject.id, roles: this.input.subject.roles, groups: this.input.subject.groups, attributes: this.input.subject.attributes ?? {} }),
      resource: luaValue(this.input.resource ?? {}),
      context: luaValue(this.input.context ?? {}),
    };
    let inputs = this.inputs;
    if (ref.reads) {
      this.projected ??= new Map();
      inputs = this.projected.get(ref.reads) ?? projectInputs(inputs, ref.reads);
      this.projected.set(ref.reads, inputs);
    }
    const ns = { name: policy.namespace, path: [...this.input.namespaces] };
    const { result, facts } = ref.sandbox.call(ref.id, ref.entry, inputs.subject, inputs.resource, inputs.context, ns, this.now.getTime(), ref.declaredNow);
    this.acceptFacts(facts);
    return result;
  }

  /** Facts must be declared in the registry with the right type; otherwise the script's run is void. */
  private acceptFacts(facts: Record<string, unknown> | undefined): void {
    const entries = Object.entries(facts ?? {});
    if (entries.length === 0) return;
    const declared = this.registry?.scopes.facts;
    for (const [name, value] of entries) {
      const decl = declared?.get(name);
      if (!decl) throw new Error(`fact ${JSON.stringify(name.slice(0, 64))} is not declared in the attribute registry`);
      const problem = checkAttribute(value, decl);
      if (problem) throw new Error(`fact ${name} ${problem}`);
    }
    for (const [name, value] of entries) this.facts[name] = value;
  }

  /** A rule's `lua:` chunk: true applies the rule; anything else does not. */
  ruleHolds(policy: CompiledPolicy, rule: CompiledRule): { value: boolean } | { error: string } {
    try {
      const v = this.call(rule.lua!, policy);
      return typeof v === 'boolean' ? { value: v } : { error: `the lua chunk returned ${typeof v}, not a boolean` };
    } catch (err) {
      return { error: `lua: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /** A script document: a boolean (no effects) or a table of effects, as a rule to apply. */
  runScript(policy: CompiledPolicy, rule: CompiledRule): ScriptOutcome {
    try {
      const v = this.call(rule.script!, policy);
      if (typeof v === 'boolean') return { effects: undefined, value: v };
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: `can_execute returned ${v === null || v === undefined ? 'nil' : typeof v}, not a boolean or an effects table`, invalidResult: true };
      const t = v as Record<string, unknown>;
      for (const k of Object.keys(t)) if (!['grant', 'revoke', 'deny', 'message'].includes(k)) throw new Error(`unknown field ${k} in the effects table`);
      const effects: CompiledRule = {
        ...rule,
        grant: patterns(t.grant, 'grant'),
        revoke: patterns(t.revoke, 'revoke'),
        deny: patterns(t.deny, 'deny'),
        // A string, or a table { key = …, fallback = …, params = { … } } (SPEC §10).
        message: compileScriptMessage(t.message),
      };
      return { effects, value: v };
    } catch (err) {
      return { error: `lua: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}

const EVERYTHING = mustParsePattern('*');

/** What a failed script document applies: nothing (`skip`) or a deny of everything (`deny`). */
export function failedScriptEffects(policy: CompiledPolicy, rule: CompiledRule, error: string): CompiledRule | undefined {
  if (policy.onError === 'skip') return undefined;
  return { ...rule, grant: [], revoke: [], deny: [EVERYTHING], message: `policy ${policy.key} failed: ${error.slice(0, 200)}` };
}
