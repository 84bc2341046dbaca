// Caller-supplied CEL is bounded (issue 16, item 2): over real HTTP, while the worst
// known conditions run through inline `policies` in POST /v1/evaluate, POST /v1/test and
// POST /v1/validate, GET /healthz answers within 50 ms every time. The poller runs in a
// worker thread (its own event loop), so a stalled server loop shows as a slow answer.
//
// On the code before the fix each case stalls the loop for seconds (backtracking RegExp
// for `matches`, unbudgeted comprehensions, equality and concatenation), and the
// invalid RE2 patterns were accepted by validate.

import t, { type Test } from 'tap';
import { Worker } from 'node:worker_threads';
import type net from 'node:net';
import { testApp } from '../helpers/app.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

const HEALTHZ_MS = 50;
/** most runs per step: one must keep the bound (a stall comes back every run; noise of a shared machine does not) */
const ATTEMPTS = 8;

const { app } = await testApp(t, { store: new MemoryStore() });
await app.listen({ port: 0, host: '127.0.0.1' });
const origin = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- bodies are checked field by field
  const r = await fetch(origin + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

/** GET /healthz from another thread every few ms; each answer arrives as [sent at (epoch ms), latency]. */
function startPoller(): { ready: Promise<void>; samples: Array<[number, number]>; stop: () => Promise<void> } {
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let running = true;
    parentPort.on('message', () => { running = false; });
    const once = () => new Promise((resolve, reject) => {
      const start = performance.timeOrigin + performance.now();
      http.get(workerData.url, { agent }, (res) => { res.resume(); res.on('end', () => resolve([start, performance.timeOrigin + performance.now() - start])); }).on('error', reject);
    });
    (async () => {
      while (running) {
        parentPort.postMessage(await once());
        await new Promise((r) => setTimeout(r, 5));
      }
      agent.destroy();
      parentPort.postMessage('done');
    })();
  `, { eval: true, workerData: { url: `${origin}/healthz` } });
  const samples: Array<[number, number]> = [];
  let done: () => void = () => {};
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((resolve) => { readyResolve = resolve; });
  worker.on('message', (m: [number, number] | 'done') => {
    if (m === 'done') done();
    else {
      samples.push(m);
      readyResolve();
    }
  });
  return {
    ready,
    samples,
    stop: () => new Promise<void>((resolve, reject) => {
      done = () => { void worker.terminate(); resolve(); };
      worker.once('error', reject);
      worker.postMessage('stop');
    }),
  };
}

const S50K = 'a'.repeat(50_000);
const LIST10K = Array.from({ length: 10_000 }, (_, i) => i);

const doc = (when: string) => ({ key: 'global-cel', rules: [{ id: 'r', subjects: ['*'], when, grant: ['doc:read'] }, { id: 'always', subjects: ['*'], grant: ['doc:list'] }] });
const evaluateBody = (when: string, context: object) => ({ subject: 'user:a', policies: [doc(when)], context, explain: true });

interface Attack {
  name: string;
  when: string;
  context: object;
  /** what the condition must come to: a value, or the budget's error */
  expect: { value: boolean } | { budget: true };
}

const ATTACKS: Attack[] = [
  { name: 'backtracking regex ^(a+)+$ (2.2 s per request before)', when: 'context.s.matches("^(a+)+$")', context: { s: 'a'.repeat(27) + 'b' }, expect: { value: false } },
  { name: 'the same regex over 20 kB', when: 'context.s.matches("^(a+)+$")', context: { s: 'a'.repeat(20_000) + 'b' }, expect: { value: false } },
  { name: 'quadratic comprehension over a 50 kB string', when: 'context.s.split("").all(c, !context.s.contains(c + "b"))', context: { s: S50K }, expect: { budget: true } },
  { name: 'a list of lists compared (nested comprehension by equality)', when: 'context.l.map(x, context.l) == context.l.map(x, context.l)', context: { l: LIST10K.slice(0, 3000) }, expect: { budget: true } },
  { name: 'membership over the list for each of its items', when: 'context.l.all(x, x in context.l && x >= 0)', context: { l: LIST10K }, expect: { budget: true } },
  { name: 'hasAny of two 8k lists', when: 'hasAny(context.l, context.m)', context: { l: LIST10K.slice(0, 8000), m: LIST10K.slice(0, 8000).map((x) => -x - 1) }, expect: { budget: true } },
  {
    name: 'string concatenation quadrupling (50 kB × 4⁶)',
    when: 'cel.bind(a, context.s + context.s + context.s + context.s, cel.bind(b, a + a + a + a, cel.bind(c, b + b + b + b, cel.bind(d, c + c + c + c, cel.bind(e, d + d + d + d, cel.bind(f, e + e + e + e, f.contains("x")))))))',
    context: { s: S50K },
    expect: { budget: true },
  },
  { name: 'a regex built from the request (dynamic pattern, large program)', when: 'context.s.matches(context.p)', context: { s: S50K, p: '[\\p{L}\\p{N}]{490}' }, expect: { budget: true } },
];

async function runAttack(a: Attack, t: Test): Promise<void> {
  const r = await post('/v1/evaluate', evaluateBody(a.when, a.context));
  t.equal(r.status, 200, `${a.name}: answered`);
  const rule = r.json.trace?.[0]?.rules?.find((x: { rule: string }) => x.rule === 'r');
  if ('value' in a.expect) {
    t.same(rule?.condition, { value: a.expect.value }, `${a.name}: the condition's value`);
  } else {
    t.match(rule?.condition?.error, /^CEL_BUDGET_EXCEEDED/, `${a.name}: the condition fails on the budget`);
    t.same(r.json.permissions, ['doc:list'], `${a.name}: fails closed (its grant is not applied)`);
  }
}

const SUITE = {
  name: 'hostile',
  namespace: 'global',
  policies: [
    { key: 'global-a', rules: [
      { id: 'regex', subjects: ['*'], when: 'context.s.matches("^(a+)+$")', grant: ['a:regex'] },
      { id: 'quadratic', subjects: ['*'], when: 'context.s.split("").all(c, !context.s.contains(c + "b"))', grant: ['a:quadratic'] },
      { id: 'plain', subjects: ['*'], grant: ['a:plain'] },
    ] },
  ],
  cases: [
    { name: 'short', subject: 'user:a', context: { s: 'a'.repeat(27) }, expect: { permissions: ['a:plain', 'a:quadratic', 'a:regex'] } },
    { name: 'long', subject: 'user:a', context: { s: S50K }, expect: { permissions: ['a:plain'] } },
  ],
};

const VALIDATE_BAD = ['(?=x)a', '(a)\\1', 'a++', '(?<=a)b', 'x{2000}'];

const now = () => performance.timeOrigin + performance.now();

interface Step {
  name: string;
  run: (t: Test) => Promise<void>;
}

const STEPS: Step[] = [
  ...ATTACKS.map((a) => ({ name: `evaluate: ${a.name}`, run: (t: Test) => runAttack(a, t) })),
  {
    name: 'POST /v1/test with the regex and the quadratic rule',
    run: async (t) => {
      const suite = await post('/v1/test', SUITE);
      t.equal(suite.status, 200, '/v1/test answered');
      t.match(suite.json, { counts: { passed: 2, failed: 0 } }, '/v1/test: the regex holds as RE2 says; the quadratic rule fails closed on 50 kB');
    },
  },
  {
    name: 'POST /v1/validate with the pathological and invalid patterns',
    run: async (t) => {
      const ok = await post('/v1/validate', doc('context.s.matches("^(a+)+$") && context.s.split("").all(c, !context.s.contains(c + "b"))'));
      t.match(ok.json, { valid: true }, 'validate: the pathological pattern is valid RE2 (and harmless)');
      for (const pattern of VALIDATE_BAD) {
        const bad = await post('/v1/validate', doc(`context.s.matches(${JSON.stringify(pattern)})`));
        t.equal(bad.status, 200);
        t.match(bad.json, { valid: false, errors: [{ path: 'rules[0].when', message: /matches\(\): (invalid regular expression \(RE2 syntax\)|regular expression too large)/ }] }, `validate refuses ${pattern}`);
      }
    },
  },
];

t.test('/healthz answers within 50 ms while the worst CEL conditions run', async (t) => {
  // Warm the code paths once (JIT), then run each step with the poller running. This
  // machine is shared (load averages of 20+ on 2 cores were seen): a step whose run sees
  // a slow poll runs again, up to ATTEMPTS times, and one clean run must come — a stall
  // from the condition comes back every run, scheduler noise does not.
  for (const s of STEPS) await s.run(t);
  const poller = startPoller();
  await poller.ready;
  for (const s of STEPS) {
    const worst: number[] = [];
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const from = now();
      await s.run(t);
      await new Promise((r) => setTimeout(r, 20));
      const to = now();
      const inside = poller.samples.filter(([sent, latency]) => sent + latency >= from && sent <= to);
      worst.push(inside.length === 0 ? Infinity : Math.max(...inside.map(([, l]) => l)));
      if (worst[worst.length - 1]! < HEALTHZ_MS) break;
    }
    t.ok(Math.min(...worst) < HEALTHZ_MS, `${s.name}: /healthz answered within ${HEALTHZ_MS} ms throughout a run (worst poll per run: ${worst.map((x) => x.toFixed(1)).join(', ')} ms)`);
  }
  await poller.stop();
  t.ok(poller.samples.length >= 10, `the poller ran (${poller.samples.length} polls)`);
});

t.test('an invalid pattern in a stored policy is refused with POLICY_INVALID (422)', async (t) => {
  const r = await fetch(`${origin}/v1/policies/global-cel`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc('context.s.matches("(a)\\\\1")')) });
  t.equal(r.status, 422);
  t.match(await r.json(), { code: 'POLICY_INVALID', details: [{ path: 'rules[0].when', message: /RE2 syntax/ }] });
});
