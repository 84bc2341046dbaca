// Does a value (a parsed document, a request body, a document's text) possibly hold Lua?
// The Lua VM is loaded on demand (sandbox.ts initLua), and compiling a Lua chunk is
// synchronous: every path that compiles what it received first asks this and, when the
// answer is yes, awaits initLua(). The answer may be a false yes (it only costs loading
// the VM) but never a false no: a key or string with the word `lua` in any case (`kind:
// lua`, a `lua:` field, also inside a document's YAML or JSON text), or a string holding a
// backslash (an escape in such a text could spell it).

const WORD = /\blua\b/i;
const MAX_DEPTH = 64;

function scan(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return WORD.test(value) || value.includes('\\');
  if (value === null || typeof value !== 'object') return false;
  // Deeper than any document goes: assume yes rather than walk on.
  if (depth > MAX_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (scan(v, depth + 1)) return true;
    return false;
  }
  for (const key of Object.keys(value)) {
    if (WORD.test(key) || key.includes('\\')) return true;
    if (scan((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

export function mayNeedLua(value: unknown): boolean {
  return scan(value, 0);
}
