// Cache admission (CACHE_ADMISSION, docs/decision-cache.md): by default a computed
// decision is stored the second time its key is asked, so subjects asked once cost no
// entry and cannot push out the ones asked again and again. Over HTTP, with the service
// built as in production; the answers are the same whether or not they were stored.

import t, { type Test } from 'tap';
import { putYaml, testApp } from '../helpers/app.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const POLICY = `
key: global-members
rules:
  - id: members-read
    subjects: ["role:member"]
    grant: ["document:read", "document:list"]
  - id: no-purge
    subjects: ["*"]
    deny: ["document:purge"]
`;

type Json = Record<string, unknown>;

/** An app of its own with the members policy, and a function asking it for a member. */
async function membersApp(t: Test, env: Record<string, string>) {
  const { app } = await testApp(t, { env });
  await putYaml(t, app, 'global-members', POLICY);
  const ask = async (id: string) => {
    const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id, roles: ['member'] }, namespace: 'global' } });
    t.equal(r.statusCode, 200);
    return r.json() as Json;
  };
  return { app, ask };
}

t.test('the default admits a decision at its second ask; a bad value is refused', async (t) => {
  t.equal(loadConfig({}).cacheAdmission, 'second');
  t.equal(loadConfig({ CACHE_ADMISSION: 'first' }).cacheAdmission, 'first');
  t.throws(() => loadConfig({ CACHE_ADMISSION: 'sometimes' }), ConfigError, 'an unknown admission is a configuration error');
});

t.test('stored at the second ask, a hit from the third, the same answer each time', async (t) => {
  const { app, ask } = await membersApp(t, { CACHE_ADMISSION: 'second' });
  const entries = async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(/\npolicy_engine_decision_cache_entries (\d+)/.exec(text)?.[1]);
  };
  const before = await entries();
  const answers = [await ask('user:mia'), await ask('user:mia'), await ask('user:mia')];
  t.same(answers.map((a) => a.cached), [false, false, true], 'computed, computed and stored, then a hit');
  for (const a of answers) {
    t.same(a.permissions, ['document:list', 'document:read']);
    t.same(a.denied, []);
  }
  t.equal(await entries(), before + 1, 'one entry for the subject asked three times');

  const fresh = await ask('user:noah');
  t.equal(fresh.cached, false);
  t.same(fresh.permissions, answers[0]!.permissions, 'a subject asked once gets the same answer…');
  t.equal(await entries(), before + 1, '…and no entry');
});

t.test('subjects asked once do not push out a subject asked again and again', async (t) => {
  const { ask } = await membersApp(t, { CACHE_ADMISSION: 'second', CACHE_MAX: '10' });
  await ask('user:hot');
  await ask('user:hot');
  t.equal((await ask('user:hot')).cached, true, 'the hot subject is cached');
  for (let i = 0; i < 100; i++) t.equal((await ask(`user:once-${i}`)).cached, false);
  t.equal((await ask('user:hot')).cached, true, 'still cached after 100 one-off subjects, ten times the cache size');

  const { ask: askStored } = await membersApp(t, { CACHE_ADMISSION: 'first', CACHE_MAX: '10' });
  await askStored('user:hot');
  t.equal((await askStored('user:hot')).cached, true, 'CACHE_ADMISSION=first: a hit from the second ask');
  for (let i = 0; i < 100; i++) await askStored(`user:once-${i}`);
  t.equal((await askStored('user:hot')).cached, false, 'and there the one-off subjects pushed it out');
});
