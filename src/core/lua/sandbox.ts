// One Lua state per document version (Lua 5.4 on WebAssembly, via wasmoon: a
// maintained embedding whose engine survives memory limits and whose module loads
// once; fengari has no memory cap and runs Lua ~6x slower). Chunks load at compile
// time, their top level running under the same budgets as a call; a request calls
// them, each call from a fresh environment, under an instruction budget, a wall-clock
// deadline and a memory cap. All states together are capped too (the WebAssembly heap
// they share never shrinks). Nothing here can grant: callers treat every failure as "no".

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

/** Lua memory all states together may hold (stored documents and the ones a request sends). */
let totalBytesMax = 256 * 1024 * 1024;
/** Lua memory held by every open state, as last measured after a run. */
let liveBytes = 0;

/** Set the cap on Lua memory across all states (the WebAssembly heap never shrinks). */
export function setLuaTotalMemory(bytes: number): void {
  totalBytesMax = bytes;
}

export function luaLiveBytes(): number {
  return liveBytes;
}

/** What a state holds of the total, and its engine (closed once, explicitly or when collected). */
interface Held {
  engine: LuaEngine;
  accounted: number;
  closed: boolean;
}

function release(held: Held): void {
  if (held.closed) return;
  held.closed = true;
  liveBytes -= held.accounted;
  held.accounted = 0;
  try {
    held.engine.global.close();
  } catch {
    // already closed
  }
}

/** Engines of replaced document versions close when their sandbox is collected. */
const engines = new FinalizationRegistry<Held>(release);

/** wasmoon's allocator reads `memoryMax` of this object on every allocation that grows. */
interface MemoryStats {
  memoryUsed: number;
  memoryMax?: number;
}

/** A state that grew this much beyond its loaded code is collected after the run. */
const COLLECT_ABOVE = 1024 * 1024;
/** Beyond this growth within a run, each growing allocation also checks the deadline. */
const WATCH_ABOVE = 256 * 1024;

export class LuaSandbox {
  private readonly held: Held;
  private readonly stats: MemoryStats;
  private readonly callFn: CallFn;
  private readonly loadFn: (id: number, source: string, name: string, limit: number, ms: number) => string | null | undefined;
  private readonly collectFn: () => void;
  private nextId = 1;
  private sealed = false;
  /** the allocator's cap for the current run (bytes of this state) */
  private limit = 0;
  /** memory used after loading (and collecting): the per-call allowance starts here */
  private baseline = 0;
  private deadline = 0;
  private watchFrom = Infinity;
  private timedOut = false;

  constructor(private readonly budgets: LuaBudgets = DEFAULT_LUA_BUDGETS) {
    if (!module) throw new Error('the Lua runtime is not initialised');
    const engine = new LuaEngine(module, { openStandardLibs: false, traceAllocations: true, injectObjects: false, enableProxy: false });
    const g = engine.global;
    for (const lib of [LuaLibraries.Base, LuaLibraries.Table, LuaLibraries.String, LuaLibraries.Math, LuaLibraries.UTF8, LuaLibraries.Debug]) g.loadLibrary(lib);
    g.set('__clock', () => performance.now());
    engine.doStringSync(PRELUDE);
    this.callFn = g.get('__call') as CallFn;
    this.loadFn = g.get('__load') as typeof this.loadFn;
    this.collectFn = g.get('__collect') as () => void;
    this.stats = (g as unknown as { getMemoryStatsRef(): MemoryStats }).getMemoryStatsRef();
    if (typeof this.stats?.memoryUsed !== 'number') throw new Error('wasmoon changed: no memory statistics to cap');
    // The cap, read by the allocator: past the deadline, a state that keeps growing gets
    // no more memory (a loop of large concatenations is few instructions but much work).
    Object.defineProperty(this.stats, 'memoryMax', {
      get: () => {
        if (this.stats.memoryUsed > this.watchFrom && performance.now() > this.deadline) {
          this.timedOut = true;
          return 1;
        }
        return this.limit;
      },
      set: () => undefined,
      configurable: true,
    });
    this.held = { engine, accounted: 0, closed: false };
    this.account();
    engines.register(this, this.held, this.held);
  }

  /** Bring the shared total up to date with what this state holds now. */
  private account(): void {
    if (this.held.closed) return;
    const used = this.stats.memoryUsed;
    liveBytes += used - this.held.accounted;
    this.held.accounted = used;
  }

  /** Arm the memory cap and deadline for one run, allowed `allowance` bytes beyond `from`. */
  private arm(from: number, allowance: number): void {
    const used = this.stats.memoryUsed;
    const total = Math.max(0, totalBytesMax - liveBytes);
    this.limit = Math.max(1, Math.min(from + allowance, used + total));
    this.deadline = performance.now() + this.budgets.timeMs;
    this.watchFrom = used + WATCH_ABOVE;
    this.timedOut = false;
  }

  /** After a run: stop watching, free what it left if that is much, update the total. */
  private settle(): void {
    this.watchFrom = Infinity;
    if (this.stats.memoryUsed > this.baseline + COLLECT_ABOVE) {
      try {
        this.collectFn();
      } catch {
        // collecting allocates nothing; a failure leaves the memory to the next run
      }
    }
    this.account();
  }

  private failure(message: string): string {
    if (this.timedOut) return 'time budget exceeded';
    return clean(/not enough memory/.test(message) ? 'memory budget exceeded' : message);
  }

  private steps(): number {
    return Math.max(1, Math.ceil(this.budgets.instructions / 1000));
  }

  /**
   * Load a chunk; returns its id, or the Lua error message (with `name:line:`). Its top
   * level runs here once, under the per-call budgets (instructions, time and memory).
   */
  load(source: string, name: string): { id: number } | { error: string } {
    if (this.sealed) throw new Error('sandbox sealed');
    if (this.held.closed) return { error: 'the Lua state is closed' };
    const id = this.nextId++;
    this.arm(this.stats.memoryUsed, this.budgets.memoryBytes);
    let err: string | null | undefined;
    try {
      err = this.loadFn(id, source, name, this.steps(), this.budgets.timeMs);
    } catch (e) {
      err = e instanceof Error ? e.message : String(e);
    } finally {
      this.settle();
    }
    if (err) return { error: this.failure(String(err)) };
    return { id };
  }

  /** After loading: drop what the top levels left, then cap calls at that plus the allowance. */
  seal(): void {
    this.sealed = true;
    if (this.held.closed) return;
    this.collectFn();
    this.baseline = this.stats.memoryUsed;
    this.limit = this.baseline + this.budgets.memoryBytes;
    this.account();
  }

  /** Close the state now (a document that failed to load): its memory returns at once. */
  close(): void {
    engines.unregister(this.held);
    release(this.held);
  }

  /**
   * Call a loaded chunk (its returned function) or a global the script defined. The
   * chunk's top level runs afresh first, so no call sees what an earlier one changed.
   * Throws an Error with a clean message on any failure or exceeded budget.
   */
  call(id: number, entry: string, subject: unknown, resource: unknown, context: unknown, ns: unknown, nowMs: number, declaredNow: boolean): LuaCallResult {
    if (this.held.closed) throw new Error('the Lua state is closed');
    this.arm(this.baseline, this.budgets.memoryBytes);
    try {
      return this.callFn(id, entry, subject, resource, context, ns, this.steps(), this.budgets.timeMs, nowMs, declaredNow);
    } catch (err) {
      throw new Error(this.failure(err instanceof Error ? err.message : String(err)));
    } finally {
      this.settle();
    }
  }

  memoryUsed(): number {
    return this.stats.memoryUsed;
  }
}
