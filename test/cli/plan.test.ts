// `policy-engine plan …` against a real service on a loopback port: each output form,
// the exit codes (0 a plan, 1 never, 3 a refusal), a partial plan's note.
import t from 'tap';
import { testApp, putYaml } from '../helpers/app.js';
import { runCli } from './run-cli.js';

const { app } = await testApp(t);
await putYaml(t, app, 'global-docs', 'key: global-docs\nrules:\n  - { id: own, subjects: ["*"], grant: ["document:read"], when: "resource.attributes.owner == subject.id" }\n  - { id: pre, subjects: ["user:p"], grant: ["document:read"], when: "resource.attributes.t.startsWith(\'a\')" }\n');
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const plan = (...args: string[]) => runCli(['plan', '--url', url, '--namespace', 'global', '--permission', 'document:read', '--type', 'document', ...args]);

t.test('the forms', async (t) => {
  const sql = await plan('--subject', 'user:alice', '--field', 'attributes.owner=owner_id', '--format', 'sql');
  t.equal(sql.code, 0, sql.stderr);
  t.equal(sql.stdout, 'WHERE "owner_id" = $1\n-- params: ["user:alice"]\n');
  const mongo = await plan('--subject', '{"id":"user:alice","roles":["x"]}', '--format', 'mongo');
  t.same(JSON.parse(mongo.stdout), { owner: 'user:alice' });
});

t.test('exit codes and notes', async (t) => {
  const never = await plan('--subject', 'user:alice', '--permission', 'billing:read');
  t.equal(never.code, 1, 'never: nothing may be read');
  const refused = await plan('--subject', 'user:p');
  t.equal(refused.code, 3);
  t.match(refused.stderr, /PLAN_UNSUPPORTED/);
  const partial = await plan('--subject', 'user:p', '--partial', '--format', 'filter');
  t.equal(partial.code, 0, partial.stderr);
  t.match(partial.stderr, /not exact: re-check rows of global-docs\/pre/);
});
