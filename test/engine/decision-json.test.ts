// The hand-built evaluate answer (engine/decision-json.ts) is byte for byte what the
// route's response schema makes of it (fast-json-stringify), and leaves to the schema
// every answer it does not render exactly.
import t from 'tap';
import Fastify from 'fastify';
import { checkBodyText, evaluateBodyOpen, sharedListJson } from '../../src/engine/decision-json.js';
import { checkResponse, evaluateResponse } from '../../src/server/schemas/evaluate.js';
import type { CheckResponse, EvaluateResponse } from '../../src/core/request.js';

// The route's serializer: fastify with the evaluate response schema, answering what it is sent.
const app = Fastify();
app.post('/echo', { schema: { response: { 200: evaluateResponse } } }, async (request) => request.body);
app.post('/check', { schema: { response: { 200: checkResponse } } }, async (request) => request.body);
t.teardown(() => app.close());
const schemaSerialized = async (r: object, url = '/echo') => (await app.inject({ method: 'POST', url, payload: r })).body;
const ID = '0f8fd9a2-4b0c-4e43-9c55-3c3a3e0f2d11';
const viaRoute = (r: EvaluateResponse, lists = {}) => `${evaluateBodyOpen(r, lists)},"decisionId":"${ID}"}`;

// Strings the schema serializer escapes by its own paths: quotes, backslashes, control
// characters, lone surrogates, long and short strings, non-Latin-1 text.
const AWKWARD = ['', 'a', 'doc:read', 'quote"d', 'back\\slash', 'tab\there', 'nl\n', '\u0000', '\u001f', '\ud800', 'x\udfffy', '😀', 'ü', 'k'.repeat(41), 'k'.repeat(42) + '"', 'z'.repeat(5001), '</script>'];

function response(i: number): EvaluateResponse {
  const pick = (n: number) => AWKWARD.slice(i % AWKWARD.length).concat(AWKWARD).slice(0, n);
  return {
    permissions: pick(i % 5), denied: pick((i * 3) % 4), default: i % 2 === 0,
    namespaces: pick(1 + (i % 3)), policies: pick(i % 7), cached: i % 3 === 0, revision: AWKWARD[i % AWKWARD.length]!, exact: i % 4 !== 0,
  };
}

t.test('the same bytes as the response schema, whatever the strings', async (t) => {
  for (let i = 0; i < 60; i++) {
    const r = response(i);
    const expected = await schemaSerialized({ ...r, decisionId: ID });
    t.equal(viaRoute(r), expected, `answer ${i}`);
    // Lists passed already serialized give the same text.
    t.equal(viaRoute(r, { policies: JSON.stringify(r.policies), namespaces: JSON.stringify(r.namespaces) }), expected);
  }
});

t.test('answers with parts the schema filters or orders are left to it', async (t) => {
  const base = response(1);
  const extras: Array<Partial<EvaluateResponse>> = [
    { stale: true }, { trace: [] }, { grantedBy: { 'doc:read': { document: 'd', rule: 'r' } } },
    { conditionErrors: [{ document: 'd', rule: 'r', error: 'e' }] }, { messages: { 'doc:read': { text: 'no', rule: 'r', document: 'd' } } },
  ];
  for (const extra of extras) t.equal(evaluateBodyOpen({ ...base, ...extra }), undefined, Object.keys(extra)[0]!);
});

t.test('check answers: the same bytes as the response schema; reasons and several permissions are left to it', async (t) => {
  for (let i = 0; i < AWKWARD.length * 3; i++) {
    const r: CheckResponse = { allowed: i % 2 === 0, cached: i % 3 === 0, revision: AWKWARD[i % AWKWARD.length]!, ...(i % 5 === 0 ? { stale: true } : {}) };
    t.equal(checkBodyText(ID, r), await schemaSerialized({ ...r, decisionId: ID }, '/check'), `answer ${i}`);
  }
  const base: CheckResponse = { allowed: false, cached: false, revision: '1' };
  t.equal(checkBodyText(ID, { ...base, reason: { text: 'no', rule: 'r', document: 'd' } }), undefined, 'a reason');
  t.equal(checkBodyText(ID, { cached: false, revision: '1', results: { a: true } }), undefined, 'several permissions');
  t.equal(checkBodyText(ID, { cached: false, revision: '1', results: { a: false }, reasons: { a: { text: 'no', rule: 'r', document: 'd' } } }), undefined);
});

t.test('shared lists are serialized once, by identity', async (t) => {
  const list = Object.freeze(['a', 'b']);
  t.equal(sharedListJson(list), '["a","b"]');
  t.equal(sharedListJson(list), sharedListJson(list));
  t.equal(sharedListJson(['c']), '["c"]', 'another list, its own text');
});
