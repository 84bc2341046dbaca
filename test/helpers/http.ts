// One request shape for tests, served either by inject() or by real HTTP on a loopback
// port, so the same API suite runs both ways.

import type { FastifyInstance } from 'fastify';

export interface Req {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  /** an object is sent as JSON */
  payload?: string | object;
}

export interface Res {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience: bodies are checked field by field
}

export type Send = (req: Req) => Promise<Res>;

export function injectSender(app: FastifyInstance): Send {
  return async (req) => {
    const r = await app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload as string });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = String(v);
    return { status: r.statusCode, headers, body: r.body, json: () => JSON.parse(r.body) };
  };
}

/** Listen on a free loopback port and send real HTTP requests with fetch. */
export async function httpSender(app: FastifyInstance): Promise<Send> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return async (req) => {
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    let body: string | undefined;
    if (typeof req.payload === 'object') {
      body = JSON.stringify(req.payload);
      headers['content-type'] ??= 'application/json';
    } else body = req.payload;
    const r = await fetch(address + req.url, { method: req.method, headers, body });
    const text = await r.text();
    const out: Record<string, string> = {};
    r.headers.forEach((v, k) => { out[k] = v; });
    return { status: r.status, headers: out, body: text, json: () => JSON.parse(text) };
  };
}
