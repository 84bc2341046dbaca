// Lua in documents (SPEC §8): rule-level `lua:` chunks and `kind: lua` documents.
// Each chunk is checked statically (syntax, sandbox names) and loaded once into the
// document version's sandbox; a request only calls it.

import { checkLuaChunk } from '../lua/static-check.js';
import { isLuaReady, LuaSandbox, DEFAULT_LUA_BUDGETS, luaTurnSpent, TURN_SPENT, type LuaBudgets } from '../lua/sandbox.js';
import { addPath, emptyReads, type ConditionReads } from '../condition/dependencies.js';
import type { DocumentError, LuaDocument, PolicyDocument } from '../document/types.js';
import { resolveDocumentNamespace } from '../namespace.js';
import type { CompiledPolicy, LuaRef } from './types.js';

const NOT_READY = 'the Lua runtime is not initialised on this server';

/** Rule chunks become functions of the inputs; line numbers stay those of the chunk. */
function wrapChunk(chunk: string): string {
  return `return function(subject, resource, context, ns) ${chunk}\nend`;
}

function problemsAt(path: string, problems: Array<{ message: string; line: number; column: number }>, errors: DocumentError[]): void {
  for (const p of problems) errors.push({ path, message: `${p.message} (script line ${p.line}, column ${p.column})` });
}

/** `policy:12: attempt to …` → line 12 */
function luaError(path: string, message: string, errors: DocumentError[]): void {
  const m = /^[^:]*:(\d+): (.*)$/.exec(message);
  errors.push({ path, message: m ? `${m[2]} (script line ${m[1]})` : message });
}

/** Load the `lua:` chunks of a policy document's rules; index → reference. */
export function compileRuleChunks(doc: PolicyDocument, budgets: LuaBudgets | undefined, errors: DocumentError[]): Map<number, LuaRef> {
  const refs = new Map<number, LuaRef>();
  const withLua = doc.rules.map((r, i) => [r.lua, i] as const).filter(([lua]) => lua !== undefined);
  if (withLua.length === 0) return refs;
  if (!isLuaReady()) {
    errors.push({ path: `rules[${withLua[0]![1]}].lua`, message: NOT_READY });
    return refs;
  }
  if (luaTurnSpent(budgets)) {
    errors.push({ path: `rules[${withLua[0]![1]}].lua`, message: TURN_SPENT });
    return refs;
  }
  const sandbox = new LuaSandbox(budgets ?? DEFAULT_LUA_BUDGETS);
  for (const [chunk, i] of withLua) {
    const path = `rules[${i}].lua`;
    const problems = checkLuaChunk(wrapChunk(chunk!));
    if (problems.length > 0) {
      problemsAt(path, problems, errors);
      continue;
    }
    const loaded = sandbox.load(wrapChunk(chunk!), `rule${i}`);
    if ('error' in loaded) luaError(path, loaded.error, errors);
    else refs.set(i, { sandbox, id: loaded.id, entry: '', declaredNow: false });
  }
  // A chunk that failed (a budget it blew while loading, say) fails the document: free
  // its state now rather than when the collector gets to it.
  if (refs.size < withLua.length) {
    sandbox.close();
    return new Map();
  }
  sandbox.seal();
  return refs;
}

function readsOf(declared: readonly string[] | undefined): ConditionReads {
  const reads = emptyReads();
  for (const r of declared ?? ['subject', 'context', 'resource']) {
    if (r === 'now') reads.now = true;
    else addPath(reads, r.split('.')); // declared reads are identifiers joined by dots (the schema's pattern)
  }
  return reads;
}

/** Every input a rule-level chunk could read: the whole subject, context and resource. */
export const LUA_RULE_READS: ConditionReads = readsOf(undefined);

export function compileLuaDocument(doc: LuaDocument, budgets: LuaBudgets | undefined): { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] } {
  const errors: DocumentError[] = [];
  const ns = resolveDocumentNamespace(doc.key, doc.namespace);
  if (!ns.ok) errors.push({ path: doc.namespace !== undefined ? 'namespace' : 'key', message: ns.reason });
  const problems = checkLuaChunk(doc.script, ['can_execute']);
  if (problems.length > 0) problemsAt('script', problems, errors);
  else if (!/(^|\n)\s*function\s+can_execute\s*\(|(^|\n)\s*can_execute\s*=\s*function/.test(doc.script)) {
    errors.push({ path: 'script', message: 'the script must define can_execute(subject, resource, context)' });
  }
  if (errors.length > 0 || !ns.ok) return { ok: false, errors };
  if (!isLuaReady()) return { ok: false, errors: [{ path: 'script', message: NOT_READY }] };
  if (luaTurnSpent(budgets)) return { ok: false, errors: [{ path: 'script', message: TURN_SPENT }] };
  const sandbox = new LuaSandbox(budgets ?? DEFAULT_LUA_BUDGETS);
  const loaded = sandbox.load(doc.script, 'script');
  if ('error' in loaded) {
    sandbox.close();
    luaError('script', loaded.error, errors);
    return { ok: false, errors };
  }
  sandbox.seal();
  const declaredNow = doc.reads?.includes('now') ?? false;
  // Declared reads: the script sees only those inputs (what the cache keys).
  const reads = doc.reads?.filter((r) => r !== 'now').map((r) => r.split('.'));
  const script: LuaRef = { sandbox, id: loaded.id, entry: 'can_execute', declaredNow, ...(reads ? { reads } : {}) };
  return {
    ok: true,
    policy: {
      kind: 'lua',
      key: doc.key,
      namespace: ns.namespace,
      ordinal: doc.ordinal,
      disabled: doc.disabled === true,
      rules: [{
        id: 'can_execute', index: 0, policy: doc.key, subjects: { any: true, ids: [], roles: [], groups: [] },
        grant: [], revoke: [], deny: [], message: undefined, script,
      }],
      predicates: new Map(),
      reads: readsOf(doc.reads),
      typed: false,
      onError: doc.onError ?? 'deny',
      document: doc,
    },
  };
}
