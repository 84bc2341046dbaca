// What the policy language needs loaded before a document compiles: the Lua
// WebAssembly module (documents with `lua:` rules or `kind: lua`). Loaded once, by the
// commands that read policies; the others start without it.

import { initLua } from '../core/lua/sandbox.js';

export async function prepareRuntime(): Promise<void> {
  await initLua();
}
