// One Lua state per document version (Lua 5.4 on WebAssembly, via wasmoon: a
// maintained embedding whose engine survives memory limits and whose module loads
// once; fengari has no memory cap and runs Lua ~6x slower). Chunks load at compile
// time, their top level running under the same budgets as a call; a request calls
// them, each call from a fresh environment, under an instruction budget, a wall-clock
// deadline and a memory cap. All states together are capped too (the WebAssembly heap
// they share never shrinks). Nothing here can grant: callers treat every failure as "no".

import type { LuaEngine, LuaThread, LuaWasm } from 'wasmoon';
import { PRELUDE } from './prelude.lua.js';
import { mayNeedLua } from './needs-lua.js';

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
let wasmoon: typeof import('wasmoon') | undefined;
let loading: Promise<void> | undefined;

/**
 * Load wasmoon and its WebAssembly module once; compiling a Lua chunk needs it. Loaded on
 * demand (see needs-lua.ts): a server without Lua documents never pays for the VM (its
 * 16 MiB WebAssembly memory and the compiled module).
 */
export function initLua(): Promise<void> {
  loading ??= import('wasmoon').then(async (w) => {
    const m = await new w.LuaFactory().getLuaModule();
    wasmoon = w;
    module = m;
  });
  return loading;
}

/** Load the VM first when `value` may hold Lua (mayNeedLua); otherwise nothing to wait for. */
export async function initLuaFor(value: unknown): Promise<void> {
  if (module === undefined && mayNeedLua(value)) await initLua();
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


/** Lua memory all states together may hold (stored documents and the ones a request sends). */
let totalBytesMax = 256 * 1024 * 1024;
/** Lua memory held by every open state, as last measured after a run. */
let liveBytes = 0;

/** Set the cap on Lua memory across all states (the WebAssembly heap never shrinks). */
export function setLuaTotalMemory(bytes: number): void {
  totalBytesMax = bytes;
}

/**
 * Lua time one turn of the event loop may spend, over all runs: a request can hold many
 * Lua documents (inline `policies`), each with its own per-run budget; together they
 * stop here. A turn ends at the next check phase (setImmediate).
 */
// Off by default: a synchronous batch (a test suite, a preview) runs many scripts in one
// turn, and a shared budget would make their answers depend on timing. A deployment that
// takes caller-supplied Lua without a token can turn it on (LUA_TURN_MS).
let turnBudgetMs = Number.POSITIVE_INFINITY;
let turnSpentMs = 0;
let turnOpen = false;

export function setLuaTurnBudget(ms: number): void {
  turnBudgetMs = ms;
}

function openTurn(): void {
  if (turnOpen) return;
  turnOpen = true;
  turnSpentMs = 0;
  setImmediate(() => {
    turnOpen = false;
  });
}

/** The time the next run may take: its own budget, within what is left of the turn's. */
function runMs(own: number): number {
  openTurn();
  return Math.min(own, Math.max(own, turnBudgetMs) - turnSpentMs);
}

/** The turn's Lua time is spent: a new state would not get to run (so it is not made). */
export function luaTurnSpent(budgets: LuaBudgets = DEFAULT_LUA_BUDGETS): boolean {
  return turnOpen && Math.max(budgets.timeMs, turnBudgetMs) - turnSpentMs <= 0;
}

export const TURN_SPENT = 'time budget exceeded (all Lua of this request)';

/**
 * Charge Lua work since `started` to the turn: runs, and what surrounds them (creating a
 * state, collecting what a run left), so the turn's budget bounds all of it.
 */
function charge(started: number): void {
  openTurn();
  turnSpentMs += performance.now() - started;
}

export function luaLiveBytes(): number {
  return liveBytes;
}

/** What the allocator's cap reads: the current run of one state. */
interface RunState {
  /** the cap for the current run (bytes of this state); 0: none */
  limit: number;
  deadline: number;
  /** above this much memory, the run is watched closely; Infinity outside runs */
  watchFrom: number;
  timedOut: boolean;
  closed: boolean;
  thread: LuaThread;
  stats: MemoryStats;
}

/**
 * The state grew past the watch line during a run: from now on the hook runs every
 * instruction (lua_sethook may be called at any time, even from inside an allocation),
 * and past the deadline no allocation succeeds.
 */
function watchClosely(run: RunState): void {
  const { lua, address } = run.thread;
  const mask = lua.lua_gethookmask(address);
  if (mask !== 0 && lua.lua_gethookcount(address) !== 1) lua.lua_sethook(address, lua.lua_gethook(address), mask, 1);
  if (performance.now() > run.deadline) run.timedOut = true;
}

/** What a state holds of the total, and its engine (closed once, explicitly or when collected). */
interface Held {
  engine: LuaEngine;
  accounted: number;
  closed: boolean;
  run: RunState;
}

function release(held: Held): void {
  if (held.closed) return;
  held.closed = true;
  held.run.closed = true;
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

/**
 * A state holding this much beyond its loaded code holds large values: each instruction
 * can then be much work, so the hook runs every instruction and each growing allocation
 * checks the deadline; after the run, the state is collected.
 */
const WATCH_ABOVE = 256 * 1024;

export class LuaSandbox {
  private readonly held: Held;
  private readonly stats: MemoryStats;
  /** the thread every run happens on (so the allocator knows whose hook to tighten) */
  private readonly thread: LuaThread;
  private nextId = 1;
  private sealed = false;
  /** what the allocator reads during a run (it must not hold the sandbox, or the sandbox is never collected) */
  private readonly run: RunState;
  /** memory used after loading (and collecting): the per-call allowance starts here */
  private baseline = 0;
  /** memory of the state with nothing loaded: the watch line is measured from here */
  private readonly fresh: number;

  constructor(private readonly budgets: LuaBudgets = DEFAULT_LUA_BUDGETS) {
    if (!module || !wasmoon) throw new Error('the Lua runtime is not initialised');
    const started = performance.now();
    const { LuaEngine, LuaLibraries, LUA_REGISTRYINDEX } = wasmoon;
    const engine = new LuaEngine(module, { openStandardLibs: false, traceAllocations: true, injectObjects: false, enableProxy: false });
    const g = engine.global;
    for (const lib of [LuaLibraries.Base, LuaLibraries.Table, LuaLibraries.String, LuaLibraries.Math, LuaLibraries.UTF8, LuaLibraries.Debug, LuaLibraries.OS]) g.loadLibrary(lib);
    engine.doStringSync(PRELUDE);
    this.thread = g.newThread();
    g.lua.luaL_ref(g.address, LUA_REGISTRYINDEX); // anchors the thread
    this.stats = (g as unknown as { getMemoryStatsRef(): MemoryStats }).getMemoryStatsRef();
    if (typeof this.stats?.memoryUsed !== 'number') throw new Error('wasmoon changed: no memory statistics to cap');
    // The cap, read by the allocator: past the deadline, a state that keeps growing gets
    // no more memory (a loop of large concatenations is few instructions but much work).
    const run: RunState = { limit: 0, deadline: 0, watchFrom: Infinity, timedOut: false, closed: false, thread: this.thread, stats: this.stats };
    this.run = run;
    Object.defineProperty(this.stats, 'memoryMax', {
      get: () => {
        // Closing frees, and must never fail (an allocation failing outside a protected
        // call makes Lua panic, and wasmoon abort).
        if (run.closed) return 0;
        if (run.stats.memoryUsed > run.watchFrom) watchClosely(run);
        return run.timedOut && run.watchFrom !== Infinity ? 1 : run.limit;
      },
      set: () => undefined,
      configurable: true,
    });
    this.fresh = this.stats.memoryUsed;
    this.held = { engine, accounted: 0, closed: false, run };
    this.account();
    engines.register(this, this.held, this.held);
    charge(started);
  }

  /**
   * Call a global function of the prelude on the sandbox's thread; one result. The
   * arguments are pushed with no cap (an allocation failing outside a protected call
   * makes Lua panic); then the run is armed (`arm`) and made in protected mode, and the
   * hook is cleared from here before anything else touches the state. Nothing after
   * the call allocates in Lua (no traceback): the error is read as it is.
   */
  private invoke(name: string, args: unknown[], arm?: () => void): { ok: true; value: unknown } | { ok: false; message: string } {
    const th = this.thread;
    const { lua, address } = th;
    th.setTop(0);
    this.run.limit = 0;
    try {
      lua.lua_getglobal(address, name);
      for (const a of args) th.pushValue(a);
      arm?.();
      const status = lua.lua_pcallk(address, args.length, 1, 0, 0, null);
      lua.lua_sethook(address, null, 0, 0);
      this.run.watchFrom = Infinity;
      this.run.limit = 0; // reading the result must not fail for memory either
      if (status !== wasmoon!.LuaReturn.Ok) {
        const message = lua.lua_type(address, -1) === wasmoon!.LuaType.String ? lua.lua_tolstring(address, -1, null) : 'the script raised an error that is not a string';
        return { ok: false, message };
      }
      return { ok: true, value: th.getTop() > 0 ? th.getValue(-1) : undefined };
    } finally {
      th.setTop(0);
    }
  }

  /** Bring the shared total up to date with what this state holds now. */
  private account(): void {
    if (this.held.closed) return;
    const used = this.stats.memoryUsed;
    liveBytes += used - this.held.accounted;
    this.held.accounted = used;
  }

  /** Arm the memory cap and deadline for one run, allowed `allowance` bytes beyond `from`. */
  private arm(from: number, allowance: number, ms: number): void {
    const used = this.stats.memoryUsed;
    const total = Math.max(0, totalBytesMax - liveBytes);
    this.run.limit = Math.max(1, Math.min(from + allowance, used + total));
    this.run.deadline = performance.now() + ms;
    this.run.watchFrom = this.watchLine();
    this.run.timedOut = false;
  }

  private watchLine(): number {
    return this.fresh + WATCH_ABOVE;
  }

  /** After a run: stop watching, free what it left if that is much, update the total. */
  private settle(started: number): void {
    this.run.watchFrom = Infinity;
    if (this.stats.memoryUsed > this.baseline + WATCH_ABOVE) {
      try {
        this.invoke('__collect', []);
      } catch {
        // collecting allocates nothing; a failure leaves the memory to the next run
      }
    }
    charge(started);
    this.account();
  }

  private failure(message: string): string {
    if (this.run.timedOut) return 'time budget exceeded';
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
    const from = this.stats.memoryUsed;
    let err: string | undefined;
    const ms = runMs(this.budgets.timeMs);
    if (ms <= 0) return { error: TURN_SPENT };
    const started = performance.now();
    try {
      const r = this.invoke('__load', [id, source, name, this.steps(), ms, this.watchLine() / 1024], () => this.arm(from, this.budgets.memoryBytes, ms));
      err = r.ok ? (typeof r.value === 'string' ? r.value : undefined) : r.message;
    } catch (e) {
      err = e instanceof Error ? e.message : String(e);
    } finally {
      this.settle(started);
    }
    if (err) return { error: this.failure(err) };
    return { id };
  }

  /** After loading: drop what the top levels left, then cap calls at that plus the allowance. */
  seal(): void {
    this.sealed = true;
    if (this.held.closed) return;
    const started = performance.now();
    this.invoke('__collect', []);
    charge(started);
    this.baseline = this.stats.memoryUsed;
    this.run.limit = this.baseline + this.budgets.memoryBytes;
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
    const ms = runMs(this.budgets.timeMs);
    if (ms <= 0) throw new Error(TURN_SPENT);
    const started = performance.now();
    let r: ReturnType<LuaSandbox['invoke']>;
    try {
      r = this.invoke('__call', [id, entry, subject, resource, context, ns, this.steps(), ms, this.watchLine() / 1024, nowMs, declaredNow], () => this.arm(this.baseline, this.budgets.memoryBytes, ms));
    } catch (err) {
      r = { ok: false, message: err instanceof Error ? err.message : String(err) };
    } finally {
      this.settle(started);
    }
    if (!r.ok) throw new Error(this.failure(r.message));
    return r.value as LuaCallResult;
  }

  memoryUsed(): number {
    return this.stats.memoryUsed;
  }
}
