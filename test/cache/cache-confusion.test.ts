// The decision cache never serves one input's answer for another (issue 16 item 1),
// over real HTTP: a dotted key is one key, null is not missing, Infinity is not null, a
// map's key order counts, and (with a registry, where numbers stay doubles) -0 is not 0.
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { httpSender } from '../helpers/http.js';
import { checkConfusionCases } from '../helpers/cache-confusion.js';

t.test('inputs that decide differently never share a cache entry', async (t) => {
  const { app } = await testApp(t);
  await checkConfusionCases(t, await httpSender(app));
});

t.test('with a registry: -0 is not 0 (1.0 / -0.0 is -Infinity)', async (t) => {
  const { app } = await testApp(t);
  const send = await httpSender(app);
  const registry = 'key: global-attributes\nkind: registry\ncontext:\n  n: { type: number }\n';
  t.equal((await send({ method: 'PUT', url: '/v1/policies/global-attributes', headers: { 'content-type': 'application/yaml' }, payload: registry })).status, 201);
  const put = await send({ method: 'PUT', url: '/v1/policies/typed-p', headers: { 'content-type': 'application/json' }, payload: { key: 'typed-p', rules: [{ subjects: ['*'], when: '1.0 / context.n < 0.0', grant: ['c:x'] }] } });
  t.equal(put.status, 201, put.body);
  const ask = async (n: string) => {
    const r = await send({ method: 'POST', url: '/v1/evaluate', headers: { 'content-type': 'application/json' }, payload: `{"subject": "user:same", "namespace": "typed", "context": {"n": ${n}}}` });
    t.equal(r.status, 200, r.body);
    return r.json() as { permissions: string[]; cached: boolean };
  };
  t.same((await ask('-0')).permissions, ['c:x'], '1.0 / -0.0 < 0.0');
  t.equal((await ask('-0')).cached, true);
  const zero = await ask('0');
  t.same(zero.permissions, [], `1.0 / 0.0 is +Infinity (cached: ${zero.cached})`);
});
