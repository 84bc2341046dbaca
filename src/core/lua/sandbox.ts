// One Lua state per document version (Lua 5.4 on WebAssembly, via wasmoon: a
// maintained embedding whose engine survives memory limits and whose module loads
// once; fengari has no memory cap and runs Lua ~6x slower). Chunks load at compile
// time; a request only calls them, under an instruction budget, a wall-clock deadline
// and a memory cap. Nothing here can grant: callers treat every failure as "no".

import { LuaEngine, LuaFactory, LuaLibraries, type LuaWasm } from 'wasmoon';
import { PRELUDE } from './prelude.lua.js';

export interface LuaBudgets {
  /** instructions per call (counted in steps of 1,000) */
  instructions: number;
  /** wall-clock ms per call */
  timeMs: number;
  /** bytes of Lua memory a state may use beyond its loaded scripts */
  memoryBytes: number;
}

export const DEFAULT_LUA_BUDGETS: LuaBudgets = { instructions: 200_000, timeMs: 20, memoryBytes: 4 * 1024 * 1024 };

let module: LuaWasm | undefined;
let loading: Promise<void> | undefined;

/** Load the WebAssembly module once; compile needs it (call before serving). */
export function initLua(): Promise<void> {
  loading ??= new LuaFactory().getLuaModule().then((m) => {
    module = m;
  });
  return loading;
}

export function isLuaReady(): boolean {
  return module !== undefined;
}

export interface LuaCallResult {
  result: unknown;
  facts: Record<string, unknown>;
}

const MAX_ERROR = 300;

function clean(message: string): string {
  return message.replace(/^Error: /, '').split('\n')[0]!.slice(0, MAX_ERROR);
}

type CallFn = (...args: unknown[]) => LuaCallResult;

/** Engines of replaced document versions close when their sandbox is collected. */
const engines = new FinalizationRegistry<LuaEngine>((engine) => {
  try {
    engine.global.close();
  } catch {
    // already closed
  }
});

export class LuaSandbox {
  private readonly engine: LuaEngine;
  private readonly callFn: CallFn;
  private readonly loadFn: (id: number, source: string, name: string) => string | null | undefined;
  private nextId = 1;
  private sealed = false;

  constructor(private readonly budgets: LuaBudgets = DEFAULT_LUA_BUDGETS) {
    if (!module) throw new Error('the Lua runtime is not initialised');
    this.engine = new LuaEngine(module, { openStandardLibs: false, traceAllocations: true, injectObjects: false, enableProxy: false });
    const g = this.engine.global;
    for (const lib of [LuaLibraries.Base, LuaLibraries.Table, LuaLibraries.String, LuaLibraries.Math, LuaLibraries.UTF8, LuaLibraries.Debug]) g.loadLibrary(lib);
    g.set('__clock', () => performance.now());
    this.engine.doStringSync(PRELUDE);
    this.callFn = g.get('__call') as CallFn;
    this.loadFn = g.get('__load') as typeof this.loadFn;
    engines.register(this, this.engine);
  }

  /** Load a chunk; returns its id, or the Lua error message (with `name:line:`). */
  load(source: string, name: string): { id: number } | { error: string } {
    if (this.sealed) throw new Error('sandbox sealed');
    const id = this.nextId++;
    const err = this.loadFn(id, source, name);
    if (err) return { error: clean(String(err)) };
    return { id };
  }

  /** After loading: cap memory at what is used now plus the per-call allowance. */
  seal(): void {
    this.sealed = true;
    const g = this.engine.global;
    g.setMemoryMax(g.getMemoryUsed() + this.budgets.memoryBytes);
  }

  /**
   * Call a loaded chunk (its returned function) or a global the script defined. Throws
   * an Error with a clean message on any failure or exceeded budget.
   */
  call(id: number, entry: string, subject: unknown, resource: unknown, context: unknown, ns: unknown, nowMs: number, declaredNow: boolean): LuaCallResult {
    try {
      const limit = Math.max(1, Math.ceil(this.budgets.instructions / 1000));
      return this.callFn(id, entry, subject, resource, context, ns, limit, this.budgets.timeMs, nowMs, declaredNow);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(clean(/not enough memory/.test(message) ? 'memory budget exceeded' : message));
    }
  }

  memoryUsed(): number {
    return this.engine.global.getMemoryUsed();
  }
}
