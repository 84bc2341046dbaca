// Servers measured side by side (bench/scenarios/http.ts, bench/ratio-budget.ts): each is
// started and warmed up (its answers verified), then all are loaded in interleaved slices
// (lib/load.ts interleavedLoads), so a change in the shared machine's speed falls on
// every server alike, and stopped. One call is one repeat.

import type { Child } from './child.js';
import { interleavedLoads, loadProblems, mergeLoads, runLoad, type LoadRequest, type LoadResult } from './load.js';

export interface SideBySideTarget {
  id: string;
  start(): Promise<Child>;
  requests: LoadRequest[];
  /** checks each warm-up answer */
  verify?: (status: number, body: string) => boolean;
}

export interface SideBySideSettings {
  connections: number;
  warmupSec: number;
  /** seconds of one slice */
  sliceSec: number;
  /** slices per target */
  rounds: number;
  maxRequests: number;
}

/** Each target's slices, and the slices counted as one run; throws when a load had errors. */
export async function sideBySide<T extends SideBySideTarget>(targets: readonly T[], s: SideBySideSettings): Promise<Map<T, { slices: LoadResult[]; merged: LoadResult }>> {
  const servers = new Map<T, Child>();
  try {
    for (const t of targets) {
      const server = await t.start();
      servers.set(t, server);
      const warm = await runLoad({ port: server.port, requests: t.requests, connections: s.connections, durationSec: s.warmupSec, maxRequests: s.maxRequests, ...(t.verify ? { verify: t.verify } : {}) });
      const problem = loadProblems(warm);
      if (problem) throw new Error(`${t.id} warm-up: ${problem}`);
    }
    const slices = await interleavedLoads(targets, s.rounds, (t) => {
      const server = servers.get(t)!;
      return { port: server.port, requests: t.requests, connections: s.connections, durationSec: s.sliceSec, maxRequests: s.maxRequests, pids: [server.pid] };
    });
    const out = new Map<T, { slices: LoadResult[]; merged: LoadResult }>();
    for (const t of targets) {
      const merged = mergeLoads(slices.get(t)!);
      const problem = loadProblems(merged);
      if (problem) throw new Error(`${t.id}: ${problem}`);
      out.set(t, { slices: slices.get(t)!, merged });
    }
    return out;
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}
