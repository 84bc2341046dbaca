// Servers under test run in child processes, so the load generator never shares their
// event loop. A child is ready when a line of its output matches `ready` (our Node
// servers print a JSON line `{"ready":true,"port":N}`); it is stopped by its own pid
// (SIGTERM, then SIGKILL), and every child still alive is killed when we exit.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { BENCH_DIR, ROOT } from './paths.js';
import { ensureBuilt } from './shipped.js';
import { startSettings } from './start-flags.js';

export { BENCH_DIR, ROOT };

export interface Child {
  readonly pid: number;
  readonly port: number;
  /** the ready line's JSON, when it was one */
  readonly info: Record<string, unknown>;
  output(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // gone already
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.exit(130);
    });
  }
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** a line matching this means ready (a JSON line with `port` sets the port); without it and with `port`, ready = the port accepts */
  ready?: RegExp;
  /** the port when the program is told it (peers), not printing it; 0 = none (a worker) */
  port?: number;
  timeoutMs?: number;
  label?: string;
}

function tail(s: string, lines = 30): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function startChild(command: string, args: string[], options: StartOptions = {}): Promise<Child> {
  hookExit();
  const portOnly = options.ready === undefined && options.port !== undefined && options.port !== 0;
  const ready = options.ready ?? /^\{"ready":true/;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const label = options.label ?? path.basename(command);
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.stdin.on('error', () => {});
  let output = '';
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
    child.once('error', () => {
      if (child.pid === undefined) {
        exited = true;
        live.delete(child);
        resolve();
      }
    });
  });

  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = '';
    let done = false;
    const finish = (err?: Error, value?: Record<string, unknown>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-256 * 1024);
      if (done) return;
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (ready.test(line)) {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(line) as Record<string, unknown>;
          } catch {
            // not JSON: a peer's log line
          }
          finish(undefined, parsed);
          return;
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => finish(new Error(`${label} exited (${signal ?? `code ${code}`}) before it was ready:\n${tail(output)}`)));
    child.once('error', (err) => finish(new Error(`${label} could not start: ${err.message}`)));
    const timer = setTimeout(() => finish(new Error(`${label} not ready after ${timeoutMs / 1000} s:\n${tail(output)}`)), timeoutMs);
    if (portOnly) {
      waitForPort(options.port!, timeoutMs, () => exited).then(
        () => finish(undefined, {}),
        (err: Error) => finish(new Error(`${label}: ${err.message}:\n${tail(output)}`)),
      );
    }
  });

  const port = typeof info.port === 'number' ? info.port : options.port;
  if (port === undefined) throw new Error(`${label}: no port known`);
  if (!portOnly && options.port !== undefined && options.port !== 0 && typeof info.port !== 'number') await waitForPort(port, timeoutMs, () => exited);

  return {
    pid: child.pid!,
    port,
    info,
    output: () => output,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(killer);
    },
  };
}

/**
 * One of our Node servers (bench/servers/server.ts) with a JSON configuration: the service
 * from dist/ (compiled first when src/ is newer), with the flags and environment of
 * `npm start`, as deployed. `nodeFlags` come after those (a profiler, another heap size).
 */
export function startNodeServer(config: Record<string, unknown>, label = String(config.mode), nodeFlags: readonly string[] = []): Promise<Child> {
  ensureBuilt();
  const start = startSettings(ROOT);
  return startChild(process.execPath, [...start.flags, ...nodeFlags, '--import', 'tsx', path.join(BENCH_DIR, 'servers', 'server.ts')], {
    env: { ...start.env, BENCH_SERVER: JSON.stringify(config), NODE_ENV: 'production' },
    label: `server (${label})`,
  });
}

export function waitForPort(port: number, timeoutMs: number, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (gone()) return reject(new Error(`process exited before port ${port} accepted connections`));
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} not accepting connections after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** A free loopback port (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A JSON POST over loopback; status and parsed body. */
export async function postJson(port: number, urlPath: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}
