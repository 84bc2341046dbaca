// Vary: Accept-Language on the decision routes, over a listening socket: every answer
// whose reasons or messages follow the header says so (including cache hits that send
// stored bytes, and refusals), a decision cached in one language is never sent for
// another, and routes that do not localize carry no such Vary.

import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { putYaml, testApp } from '../helpers/app.js';
import { addVary } from '../../src/server/vary.js';

const EXAMPLES = new URL('../../examples/messages/', import.meta.url).pathname;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are checked field by field

const member = { id: 'user:mia', roles: ['member'] };

t.test('decision routes vary on Accept-Language; cached answers never cross languages', async (t) => {
  const { app } = await testApp(t);
  for (const file of readdirSync(EXAMPLES).sort()) await putYaml(t, app, file.replace(/\.yaml$/, ''), readFileSync(join(EXAMPLES, file), 'utf8'));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const post = async (path: string, body: object, language?: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(language ? { 'accept-language': language } : {}) },
      body: JSON.stringify(body),
    });
    return { status: r.status, vary: r.headers.get('vary'), body: (await r.json()) as Json };
  };

  const check = { subject: member, namespace: 'global', resource: { type: 'document', id: 'doc-7' }, permission: 'document:purge' };
  const de = await post('/v1/check', check, 'de');
  t.equal(de.status, 200);
  t.equal(de.vary, 'Accept-Language', 'check: Vary');
  t.equal(de.body.reason.language, 'de');
  const en = await post('/v1/check', check, 'en');
  t.equal(en.body.cached, true, 'the second check is a cache hit…');
  t.equal(en.body.reason.language, 'en', '…rendered in its own language, never the cached German');
  t.equal(en.vary, 'Accept-Language');
  const none = await post('/v1/check', check);
  t.equal(none.vary, 'Accept-Language', 'Vary without the header too: the answer would differ with it');

  const evaluate = { subject: member, namespace: 'global.org', resource: { type: 'document', id: 'doc-7' } };
  for (const path of ['/v1/evaluate', '/evaluate']) {
    const first = await post(path, evaluate, 'de');
    t.equal(first.vary, 'Accept-Language', `${path}: Vary`);
    t.equal(first.body.messages['document:purge'].language, 'de');
    const hit = await post(path, evaluate, 'en-US');
    t.equal(hit.body.cached, true, `${path}: a cache hit`);
    t.equal(hit.vary, 'Accept-Language', `${path}: Vary on a cache hit too`);
    t.equal(hit.body.messages['document:purge'].language, 'en', `${path}: the hit is not the German answer`);
    t.equal(hit.body.messages['document:purge'].text, 'Purging doc-7 needs an admin');
    const deAgain = await post(path, evaluate, 'de');
    t.equal(deAgain.body.messages['document:purge'].language, 'de', `${path}: and back to German`);
  }

  const refused = await post('/v1/check', { subject: member }, 'de');
  t.equal(refused.status, 400);
  t.equal(refused.vary, 'Accept-Language', 'a refusal carries Vary too');

  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.notMatch(health.headers.get('vary') ?? '', /accept-language/i, 'routes that do not localize do not vary on it');
  const policy = await fetch(`http://127.0.0.1:${port}/v1/policies/global-documents`, { headers: { accept: 'application/json' } });
  t.notMatch(policy.headers.get('vary') ?? '', /accept-language/i, 'nor the policy API');
});

t.test('addVary adds a name once, keeps what is there', async (t) => {
  t.equal(addVary(undefined, 'Accept-Language'), 'Accept-Language');
  t.equal(addVary('', 'Accept-Language'), 'Accept-Language');
  t.equal(addVary('Accept', 'Accept-Language'), 'Accept, Accept-Language');
  t.equal(addVary('accept-language', 'Accept-Language'), 'accept-language');
  t.equal(addVary('Accept, ACCEPT-LANGUAGE', 'Accept-Language'), 'Accept, ACCEPT-LANGUAGE');
  t.equal(addVary('*', 'Accept-Language'), '*');
});
