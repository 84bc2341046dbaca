// `policy-engine rel …` as a user runs it, against a real service on a loopback port:
// the example's schema and tuples loaded through the CLI, then checks (exit 0 / 1),
// explain, lookups both ways, deletes, and the service's errors passed through.

import t from 'tap';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { ROOT, runCli } from './run-cli.js';

const TOKEN = 'rel-cli-token-0123456789';
const { app } = await testApp(t, { env: { ADMIN_TOKEN: TOKEN } });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const env = { POLICY_ENGINE_URL: url, POLICY_ENGINE_TOKEN: TOKEN };
const rel = (...args: string[]) => runCli(['rel', ...args], { env });

t.test('load the example through the CLI', async (t) => {
  const schema = await rel('schema', join(ROOT, 'examples/relations/schema.yaml'));
  t.equal(schema.code, 0, schema.stderr);
  t.match(schema.stdout, /^revision \d+$/m);
  const noToken = await runCli(['rel', 'add', 'document:x#owner@user:a', '--url', url]);
  t.equal(noToken.code, 3, 'the service refusing is an error (3)');
  t.match(noToken.stderr, /UNAUTHORIZED/);
  const add = await rel('add', '--file', join(ROOT, 'examples/relations/tuples.txt'));
  t.equal(add.code, 0, add.stderr);
  t.match(add.stdout, /^revision \d+$/m);
  const printed = await rel('schema');
  t.match(printed.stdout, /# The py_magister example/, 'the schema prints as written');
});

t.test('check: exit 0 when allowed, 1 when denied, 3 on an error; explain', async (t) => {
  const yes = await rel('check', 'document:draft#read@user:alice', '--explain');
  t.equal(yes.code, 0, yes.stderr);
  t.match(yes.stdout, /^allowed \(revision \d+\)\n {2}document:draft#read\n {2}document:draft#parent@document:specs\n/);
  const no = await rel('check', 'document:draft#write@user:alice', '--fully-consistent');
  t.equal(no.code, 1);
  t.match(no.stdout, /^denied/);
  const unknown = await rel('check', 'document:draft#wrte@user:alice');
  t.equal(unknown.code, 3, 'an error is not a denial');
  t.match(unknown.stderr, /has no relation or permission 'wrte' \(RELATION_UNKNOWN\)/);
  const usage = await rel('check', 'document:draft');
  t.equal(usage.code, 2);
});

t.test('lookup both ways, delete', async (t) => {
  const docs = await rel('lookup', 'document#read@user:alice');
  t.equal(docs.code, 0, docs.stderr);
  t.same(docs.stdout.trim().split('\n'), ['document:draft', 'document:handbook', 'document:root', 'document:specs']);
  const users = await rel('lookup', 'document:draft#write@user');
  t.same(users.stdout.trim().split('\n'), ['user:bob', 'user:erin']);
  const limited = await rel('lookup', 'document#read@user:alice', '--limit', '2');
  t.same(limited.stdout.trim().split('\n'), ['document:draft', 'document:handbook']);
  t.equal((await rel('lookup', 'document:draft#read@user:alice')).code, 2, 'an id on both sides is a usage error');

  const del = await rel('delete', 'document:specs#editor@user:bob');
  t.equal(del.code, 0, del.stderr);
  const revision = /revision (\d+)/.exec(del.stdout)![1]!;
  const after = await rel('check', 'document:draft#write@user:bob', '--at-least', revision);
  t.equal(after.code, 1);
  const bad = await rel('add', 'document:x#read@user:a');
  t.equal(bad.code, 3);
  t.match(bad.stderr, /RELATION_TUPLE_INVALID/);
  t.match(bad.stderr, /is a permission of document/, 'the details are printed');
});
