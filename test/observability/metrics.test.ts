// GET /metrics: per-route request metrics, evaluations, cache, store calls, policy state;
// label values never come from user input; one registry per app.

import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { putYaml, testApp } from '../helpers/app.js';
import { Metrics } from '../../src/observability/metrics.js';
import { InstrumentedStore } from '../../src/observability/instrumented-store.js';
import { HotCounter, HotHistogram } from '../../src/observability/hot-metrics.js';
import { Counter, Histogram, Registry } from 'prom-client';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { editorsPolicy } from '../helpers/policies.js';
import {
  StoreConflictError, StoreUnavailableError, isPollable, isSubscribable,
  type PollableStore, type StoreEvent,
} from '../../src/store/store.js';

/** The value of one sample: `name` with at least these labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[k!] = v!;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function scrape(app: FastifyInstance): Promise<string> {
  const r = await app.inject({ method: 'GET', url: '/metrics' });
  if (r.statusCode !== 200) throw new Error(`/metrics answered ${r.statusCode}`);
  return r.body;
}

const NS = 'global.org.org:57af7f6d-f6f7-4af1-b182-3a30440fa781';
const POLICY = editorsPolicy({ message: false });

t.test('requests, evaluations, cache, store calls and policy state', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-base', POLICY);
  const alice = { id: 'user:alice-secret-id', roles: ['editor'] };
  for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: alice, namespace: NS } });
  await app.inject({ method: 'POST', url: '/v1/check', payload: { subject: alice, namespace: NS, permission: 'document:purge' } });
  await app.inject({ method: 'POST', url: '/v1/check', payload: { subject: alice, namespace: NS, permission: 'document:write' } });
  await app.inject({ method: 'POST', url: '/v1/check', payload: { subject: alice, namespace: NS, permissions: ['document:write', 'document:purge'] } });
  await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'x', namespace: 'bad namespace!' } });
  await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'x', policies: [{ key: 'inline-a', rules: [] }] } });
  await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'x', namespace: 'empty' } });
  await app.inject({ method: 'GET', url: '/v1/policies/global-base' });
  await app.inject({ method: 'GET', url: '/no/such/route/user:alice-secret-id' });
  // Every route is timed by its own hook: the generated HEAD routes, the document's, a scope's.
  await app.inject({ method: 'HEAD', url: '/healthz' });
  await app.inject({ method: 'GET', url: '/openapi.json' });
  await app.inject({ method: 'POST', url: '/access/v1/evaluation', payload: {} });

  const text = await scrape(app);
  const r = await app.inject({ method: 'GET', url: '/metrics' });
  t.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);

  // Requests, by route pattern.
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'POST', route: '/v1/evaluate', status_code: '200' }), 5);
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'POST', route: '/v1/evaluate', status_code: '400' }), 1);
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'PUT', route: '/v1/policies/:key', status_code: '201' }), 1);
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'GET', route: '/v1/policies/:key', status_code: '200' }), 1);
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }), 1);
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'HEAD', route: '/healthz', status_code: '200' }), 1);
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'GET', route: '/openapi.json', status_code: '200' }), 1);
  t.equal(sample(text, 'policy_engine_http_requests_total', { method: 'POST', route: '/access/v1/evaluation', status_code: '400' }), 1);
  t.equal(sample(text, 'policy_engine_http_request_duration_seconds_count', { method: 'POST', route: '/v1/check', status_code: '200' }), 3);
  t.ok(sample(text, 'policy_engine_http_request_duration_seconds_bucket', { route: '/v1/check', le: '+Inf' }) === 3);

  // Evaluations, by endpoint, mode and outcome.
  const ev = (labels: Record<string, string>) => sample(text, 'policy_engine_evaluations_total', labels);
  t.equal(ev({ endpoint: 'evaluate', mode: 'namespace', outcome: 'granted' }), 3);
  t.equal(ev({ endpoint: 'evaluate', mode: 'namespace', outcome: 'error' }), 1);
  t.equal(ev({ endpoint: 'evaluate', mode: 'namespace', outcome: 'default' }), 1);
  t.equal(ev({ endpoint: 'evaluate', mode: 'policies', outcome: 'none' }), 1);
  t.equal(ev({ endpoint: 'check', mode: 'namespace', outcome: 'denied' }), 1);
  t.equal(ev({ endpoint: 'check', mode: 'namespace', outcome: 'allowed' }), 1);
  t.equal(ev({ endpoint: 'check', mode: 'namespace', outcome: 'partial' }), 1);

  // The decision cache's own counters.
  t.ok(sample(text, 'policy_engine_decision_cache_hits_total')! >= 2, 'repeated evaluations hit the cache');
  t.ok(sample(text, 'policy_engine_decision_cache_misses_total')! >= 1);
  t.ok(sample(text, 'policy_engine_decision_cache_entries')! >= 1);

  // Store calls and policy state.
  t.equal(sample(text, 'policy_engine_store_operation_duration_seconds_count', { operation: 'put' }), 1);
  t.equal(sample(text, 'policy_engine_store_operation_duration_seconds_count', { operation: 'get' }), 1);
  t.ok(sample(text, 'policy_engine_store_operation_duration_seconds_count', { operation: 'loadAll' })! >= 1);
  t.equal(sample(text, 'policy_engine_policy_documents'), 1);
  t.equal(sample(text, 'policy_engine_policy_stale'), 0);
  t.equal(sample(text, 'policy_engine_policy_loaded'), 1);
  const age = sample(text, 'policy_engine_policy_sync_age_seconds')!;
  t.ok(age >= 0 && age < 60, `sync age ${age}`);

  // No label carries user input.
  t.notMatch(text, /alice-secret-id/, 'no subject in any label');
  t.notMatch(text, /57af7f6d/, 'no namespace path in any label');
  t.notMatch(text, /no\/such\/route/, 'no raw URL in any label');

  // The cache counters only add what is new at each scrape.
  await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: alice, namespace: NS } });
  const again = await scrape(app);
  t.equal(sample(again, 'policy_engine_decision_cache_hits_total'), sample(text, 'policy_engine_decision_cache_hits_total')! + 1);
});

t.test('every app has its own registry', async (t) => {
  const a = await testApp(t);
  const b = await testApp(t);
  for (let i = 0; i < 4; i++) await a.app.inject({ method: 'GET', url: '/healthz' });
  await b.app.inject({ method: 'GET', url: '/healthz' });
  t.equal(sample(await scrape(a.app), 'policy_engine_http_requests_total', { route: '/healthz' }), 4);
  t.equal(sample(await scrape(b.app), 'policy_engine_http_requests_total', { route: '/healthz' }), 1);
});

t.test('STORE=none serves metrics without the store and policy series', async (t) => {
  const { app } = await testApp(t, { store: 'none' });
  await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'x', policies: ['key: inline-a\nrules:\n  - subjects: ["*"]\n    grant: ["a:b"]\n'] } });
  const text = await scrape(app);
  t.equal(sample(text, 'policy_engine_evaluations_total', { mode: 'policies', outcome: 'granted' }), 1);
  t.notMatch(text, /policy_engine_policy_stale/);
  t.equal(sample(text, 'policy_engine_store_operation_duration_seconds_count'), undefined, 'no store call');
});

t.test('policy-state gauges read the manager at scrape time', async (t) => {
  let now = 1_000_000;
  const status = { loaded: true, stale: false, documents: 7, brokenDocuments: 1, lastSyncAt: 0 };
  const metrics = new Metrics({ now: () => now });
  metrics.watchPolicies({ status: () => status });
  now += 5_000;
  let text = await metrics.text();
  t.equal(sample(text, 'policy_engine_policy_sync_age_seconds'), 5, 'never synced: counts from start');
  t.equal(sample(text, 'policy_engine_policy_documents'), 7);
  t.equal(sample(text, 'policy_engine_policy_documents_broken'), 1);
  status.lastSyncAt = now - 42_000;
  status.stale = true;
  text = await metrics.text();
  t.equal(sample(text, 'policy_engine_policy_sync_age_seconds'), 42);
  t.equal(sample(text, 'policy_engine_policy_stale'), 1);
});

t.test('the instrumented store times calls, counts failures, keeps capabilities', async (t) => {
  const metrics = new Metrics();
  const memory = new MemoryStore();
  const store = new InstrumentedStore(memory, metrics);
  t.ok(isSubscribable(store), 'a subscribable store stays subscribable');
  t.notOk(isPollable(store), 'and does not become pollable');
  t.equal(store.kind, 'memory');
  await store.open();
  const events: StoreEvent[] = [];
  const off = store.subscribe!((e) => events.push(e));
  const doc = { key: 'global-a', rules: [{ subjects: ['*'], grant: ['a:b'] }] };
  const put = await store.put({ key: 'global-a', namespace: 'global', ordinal: null, disabled: false, format: 'json', text: JSON.stringify(doc), document: doc as never });
  t.equal(events.length, 1, 'events pass through');
  off();
  await t.rejects(store.put({ key: 'global-a', namespace: 'global', ordinal: null, disabled: false, format: 'json', text: '{}', document: doc as never }, { ifMatch: '"stale"' }), StoreConflictError);
  t.equal((await store.get('global-a'))?.etag, put.record.etag);

  // A pollable store with a change hint, whose calls fail.
  let hinted = 0;
  const failing = {
    kind: 'mongo' as const,
    open: async () => {},
    loadAll: async () => { throw new StoreUnavailableError('down'); },
    get: async () => undefined,
    list: async () => ({ records: [] }),
    put: async () => { throw new StoreUnavailableError('down'); },
    putMany: async () => ({ revision: '1', created: 0, replaced: 0 }),
    delete: async () => false as const,
    ping: async () => { throw new StoreUnavailableError('down'); },
    close: async () => {},
    changesSince: async () => 'reset' as const,
    onChangeHint(listener: () => void) { hinted++; listener(); return () => {}; },
  } satisfies PollableStore & { onChangeHint(l: () => void): () => void };
  const wrapped = new InstrumentedStore(failing, metrics);
  t.ok(isPollable(wrapped));
  t.notOk(isSubscribable(wrapped));
  let heard = 0;
  wrapped.onChangeHint!(() => heard++);
  t.equal(hinted, 1);
  t.equal(heard, 1);
  t.equal(await wrapped.changesSince!('0'), 'reset');
  await t.rejects(wrapped.loadAll(), StoreUnavailableError);
  await t.rejects(wrapped.ping(), StoreUnavailableError);

  const text = await metrics.text();
  t.equal(sample(text, 'policy_engine_store_operation_errors_total', { operation: 'loadAll' }), 1);
  t.equal(sample(text, 'policy_engine_store_operation_errors_total', { operation: 'ping' }), 1);
  t.equal(sample(text, 'policy_engine_store_operation_errors_total', { operation: 'put' }), undefined, 'a failed If-Match is not a store error');
  t.equal(sample(text, 'policy_engine_store_operation_duration_seconds_count', { operation: 'put' }), 2);
  t.equal(sample(text, 'policy_engine_store_operation_duration_seconds_count', { operation: 'changesSince' }), 1);
});

t.test('the hot counter and histogram render exactly as prom-client renders its own', async (t) => {
  const bounds = [0.001, 0.01, 0.1, 1];
  const values = [0, 0.0005, 0.001, 0.002, 0.05, 0.5, 1, 3, 1e-9];
  const theirs = new Registry();
  const ours = new Registry();
  const h = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['route', 'code'], buckets: bounds, registers: [theirs] });
  const c = new Counter({ name: 'x_total', help: 'c', labelNames: ['mode'], registers: [theirs] });
  const hh = new HotHistogram<'route' | 'code'>(ours, 'x_seconds', 'h', bounds);
  const hc = new HotCounter<'mode'>(ours, 'x_total', 'c');
  for (const [i, v] of values.entries()) {
    const labels = { route: i % 2 ? '/a/:b' : 'un"quoted\\', code: String(200 + (i % 3)) };
    h.observe(labels, v);
    hh.observe(hh.series(`${labels.route} ${labels.code}`, labels), v);
    c.inc({ mode: labels.code });
    hc.series(labels.code, { mode: labels.code }).value++;
  }
  t.equal(await ours.metrics(), await theirs.metrics());
  theirs.resetMetrics();
  ours.resetMetrics();
  t.match(await ours.metrics(), /x_seconds_count\{route="\/a\/:b",code="201"\} 0/);
});
