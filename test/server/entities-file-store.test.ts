// The directory with the file store (STORE=file): kept in `<POLICY_DIR>/.entities/`
// beside the policy files (which the file store does not read as policies), surviving a
// restart of the service, and merged into decisions after it.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { FileStore } from '../../src/store/file/file-store.js';

const dir = mkdtempSync(join(tmpdir(), 'pe-ent-http-file-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const policy = 'key: global-base\nrules:\n  - subjects: ["role:boss"]\n    grant: ["x:y"]\n';

t.test('written through one service, read by the next one over the same directory', async (t) => {
  const first = await testApp(t, { store: new FileStore({ dir, settleMs: 10 }) });
  t.equal((await first.app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml' }, payload: policy })).statusCode, 201);
  t.equal((await first.app.inject({ method: 'PUT', url: '/v1/entities/user:kim', headers: { 'content-type': 'application/json' }, payload: '{"roles":["boss"]}' })).statusCode, 201);
  t.ok(existsSync(join(dir, '.entities', 'journal.jsonl')), 'the journal is beside the policy files');
  await first.app.close();
  await first.services.close();

  const second = await testApp(t, { store: new FileStore({ dir, settleMs: 10 }) });
  const got = await second.app.inject({ method: 'GET', url: '/v1/entities/user:kim' });
  t.equal(got.statusCode, 200);
  t.same(got.json().roles, ['boss']);
  const r = await second.app.inject({ method: 'POST', url: '/v1/check', payload: { subject: 'user:kim', namespace: 'global', permission: 'x:y' } });
  t.equal(r.json().allowed, true, r.body);
  const policies = await second.app.inject({ method: 'GET', url: '/v1/policies' });
  t.same(policies.json().items.map((p: { key: string }) => p.key), ['global-base'], 'the journal is not read as a policy');
});
