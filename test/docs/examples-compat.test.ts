// The examples work together, as a new user tries them: push examples/policies onto a
// server, then examples/lua (and the other way round, and with the message examples):
// every write is accepted, and the decisions the example suites pin still hold on the
// combined set (examples/tests run with both directories included).

import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { initLua } from '../../src/core/lua/sandbox.js';
import { runSuiteFiles } from '../../src/testing/load-suite.js';
import { ROOT } from '../cli/run-cli.js';

const yamlFiles = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(ROOT, dir, f));
const ORDERS = [
  ['examples/policies', 'examples/lua', 'examples/messages'],
  ['examples/lua', 'examples/policies', 'examples/messages'],
  ['examples/messages', 'examples/lua', 'examples/policies'],
];

await initLua();

for (const order of ORDERS) {
  t.test(`push ${order.join(', then ')} onto one server`, async (t) => {
    const { app } = await testApp(t);
    for (const dir of order) {
      for (const file of yamlFiles(dir)) {
        const text = readFileSync(file, 'utf8');
        const key = /^key: (\S+)$/m.exec(text)![1]!;
        const r = await app.inject({ method: 'PUT', url: `/v1/policies/${encodeURIComponent(key)}`, headers: { 'content-type': 'application/yaml' }, payload: text });
        t.ok(r.statusCode === 201 || r.statusCode === 200, `${dir}/${key}: ${r.statusCode} ${r.statusCode >= 300 ? r.body.slice(0, 400) : ''}`);
      }
    }
    const acme = await app.inject({ method: 'POST', url: '/v1/check', payload: {
      subject: { id: 'user:bill', roles: ['billing'] }, namespace: 'global.org.org:57af7f6d-f6f7-4af1-b182-3a30440fa781', context: { ip: '203.0.113.5' }, permission: 'billing:invoice:pay',
    } });
    t.same([acme.statusCode, acme.json().allowed], [200, true], `the Acme example still decides (${acme.body.slice(0, 200)})`);
  });
}

t.test('the example suites still pass with the registry that declares every example input', async (t) => {
  const run = runSuiteFiles([join(ROOT, 'examples/tests')]);
  t.ok(run.passed, 'examples/tests pass');
});
