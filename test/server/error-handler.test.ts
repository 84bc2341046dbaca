// The error handler's log lines are strict JSON: a 5xx logs one line with one `msg` key
// (pino's own), the failure's code and message under their own keys. A store that cannot
// be reached (a MongoDB URL where nothing listens) gives the real 503 path.

import t from 'tap';
import { testApp } from '../helpers/app.js';
import { freePort } from '../helpers/ferretdb.js';
import { captureLog } from '../observability/log-capture.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';

/** Every key of every object in a JSON text, with duplicates (JSON.parse keeps only the last). */
export function duplicateKeys(line: string): string[] {
  const dups: string[] = [];
  const stack: Array<Set<string>> = [];
  const re = /"((?:[^"\\]|\\.)*)"\s*(:)?|[{}]/g;
  for (const m of line.matchAll(re)) {
    if (m[0] === '{') stack.push(new Set());
    else if (m[0] === '}') stack.pop();
    else if (m[2] === ':') {
      const keys = stack[stack.length - 1]!;
      if (keys.has(m[1]!)) dups.push(m[1]!);
      keys.add(m[1]!);
    }
  }
  return dups;
}

t.test('the duplicate-key check can fail', async (t) => {
  t.same(duplicateKeys('{"level":40,"msg":"a","b":{"msg":"x"},"msg":"request failed"}'), ['msg']);
  t.same(duplicateKeys('{"msg":"a","b":{"msg":"x","s":"\\"msg\\":"}}'), []);
});

t.test('a 5xx is logged once, as strict JSON with one msg', async (t) => {
  const log = captureLog('info');
  const port = await freePort();
  const { app } = await testApp(t, { store: new MongoStore({ url: `mongodb://127.0.0.1:${port}/pe_down`, serverSelectionTimeoutMS: 300 }), logger: log.logger });
  const r = await app.inject({ method: 'PUT', url: '/v1/policies/global-a', headers: { 'content-type': 'application/yaml' }, payload: 'key: global-a\nrules: []\n' });
  t.equal(r.statusCode, 503);
  t.equal(r.json().code, 'STORE_UNAVAILABLE');
  const lines = log.text().split('\n').filter((l) => l !== '');
  const failed = lines.filter((l) => l.includes('"request failed"'));
  t.equal(failed.length, 1, 'one line for the failure');
  for (const line of lines) t.same(duplicateKeys(line), [], `no duplicate key: ${line.slice(0, 160)}`);
  t.match(JSON.parse(failed[0]!), { msg: 'request failed', code: 'STORE_UNAVAILABLE', error: /./ });
});
