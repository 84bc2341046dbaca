// Replacing a stored document never opens a window in which decisions run without it:
// while the example documents are PUT again and again (same text, and changed text),
// every decision asked in between comes from either the old or the new version.

import t from 'tap';
import type { AddressInfo } from 'node:net';
import { testApp } from '../helpers/app.js';
import { read, walk } from '../deploy/fixtures/util.js';

const ORG = '57af7f6d-f6f7-4af1-b182-3a30440fa781';
const TOKEN = 'test-admin-token-0123456789';

t.test('decisions during repeated replacement of the example documents', async (t) => {
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: TOKEN } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const docs = walk('examples/policies', (n) => n.endsWith('.yaml')).map((f) => {
    const text = read(f);
    return { key: /^key:\s*(\S+)/m.exec(text)![1]!, text };
  });
  const put = async (key: string, text: string) => {
    const r = await fetch(`${base}/v1/policies/${key}`, { method: 'PUT', headers: { 'content-type': 'application/yaml', authorization: `Bearer ${TOKEN}` }, body: text });
    if (!r.ok) throw new Error(`PUT ${key}: ${r.status} ${await r.text()}`);
  };
  const check = async () => {
    const r = await fetch(`${base}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: { id: 'user:alice', roles: ['editor'], groups: [] }, namespace: `global.org.org:${ORG}`, resource: { type: 'document', id: 'doc1' }, permission: 'document:read' }) });
    return { status: r.status, body: await r.json() as { allowed?: boolean } };
  };
  for (const d of docs) await put(d.key, d.text);
  let stop = false;
  const wrong: unknown[] = [];
  let asked = 0;
  const checker = (async () => {
    while (!stop) {
      const r = await check();
      asked++;
      if (r.status !== 200 || r.body.allowed !== true) wrong.push(r);
    }
  })();
  const rounds = Number(process.env.REPLACE_ROUNDS ?? 60);
  for (let i = 0; i < rounds; i++) {
    for (const d of docs) {
      // every other round a changed text (a new etag), else the same text again
      await put(d.key, i % 2 === 0 ? d.text : `${d.text}\n# round ${i}\n`);
      const r = await check();
      asked++;
      if (r.status !== 200 || r.body.allowed !== true) wrong.push({ after: d.key, round: i, ...r });
    }
  }
  stop = true;
  await checker;
  t.same(wrong.slice(0, 5), [], `every one of ${asked} decisions saw the documents`);
});
