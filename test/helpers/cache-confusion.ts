// Inputs that a lossy decision-cache key would confuse (issue 16 item 1): for each case,
// a policy whose rule holds for the first context and not for the others; the same
// subject asks with each context in turn, over HTTP, and every answer must be the
// evaluation's own — never the first one's served from the cache. Contexts are JSON text
// as sent on the wire (`1e999` parses to Infinity in JavaScript, `-0` to -0).
import type { Test } from 'tap';
import type { Send } from './http.js';

export interface ConfusionCase {
  name: string;
  when: string;
  /** the context (JSON text) the rule holds for */
  holds: string;
  /** contexts (JSON text) it does not hold for, asked after `holds` */
  fails: readonly string[];
  /** subject attributes (JSON text), the same on every request (default `{}`) */
  attributes?: string;
}

export const CONFUSION_CASES: readonly ConfusionCase[] = [
  { name: 'a key with a dot is one key, not a path', when: 'context["mfa.verified"] == true', holds: '{"mfa.verified": true}', fails: ['{"mfa.verified": false}', '{}', '{"mfa": {"verified": true}}'] },
  { name: 'a dotted key beside the path it spells', when: 'context.mfa.verified == true', holds: '{"mfa": {"verified": true}}', fails: ['{"mfa.verified": true}', '{"mfa": {"verified": false}}'] },
  { name: 'has(): null is present, missing is not', when: 'has(context.x)', holds: '{"x": null}', fails: ['{}', '{"y": null}'] },
  { name: 'a number too large for a double (1e999) is Infinity, not null', when: 'context.n > 5.0', holds: '{"n": 1e999}', fails: ['{"n": null}', '{"n": -1e999}', '{}'] },
  { name: '-Infinity is not null', when: 'context.n < 0.0', holds: '{"n": -1e999}', fails: ['{"n": null}', '{"n": 1e999}'] },
  { name: 'a map keeps its key order (comprehensions see it)', when: 'context.m.map(k, k)[0] == "a"', holds: '{"m": {"a": 1, "b": 2}}', fails: ['{"m": {"b": 2, "a": 1}}'] },
  { name: 'the string "1" is not the number 1', when: 'context.v == 1', holds: '{"v": 1}', fails: ['{"v": "1"}', '{"v": [1]}', '{"v": {"1": 1}}', '{"v": true}'] },
  { name: 'a list element read by a dynamic index', when: 'context.xs[context.i] == "ok"', holds: '{"xs": ["no", "ok"], "i": 1}', fails: ['{"xs": ["no", "ok"], "i": 0}', '{"xs": ["ok", "no"], "i": 1}'] },
  { name: 'a map entry read by a dynamic key', when: 'context[context.k] == true', holds: '{"k": "a.b", "a.b": true}', fails: ['{"k": "a.b", "a.b": false}', '{"k": "a", "a.b": true}'] },
  { name: 'an attribute key with a dot', when: 'subject.attributes["team.lead"] == true', holds: '{}', fails: [], attributes: '{"team.lead": true}' },
];

/** Each case in its own namespace (`<prefix><n>`), the policy written with `put`. */
export async function checkConfusionCases(t: Test, send: Send, prefix = 'cachekey'): Promise<void> {
  for (const [i, c] of CONFUSION_CASES.entries()) {
    const ns = `${prefix}${i}`;
    const put = await send({ method: 'PUT', url: `/v1/policies/${ns}-p`, headers: { 'content-type': 'application/json' }, payload: { key: `${ns}-p`, rules: [{ subjects: ['*'], when: c.when, grant: ['c:x'] }] } });
    t.equal(put.status, 201, `${c.name}: policy stored (${put.body.slice(0, 200)})`);
    const ask = async (context: string, attributes = c.attributes ?? '{}') => {
      const r = await send({ method: 'POST', url: '/v1/evaluate', headers: { 'content-type': 'application/json' }, payload: `{"subject": {"id": "user:same", "attributes": ${attributes}}, "namespace": "${ns}", "context": ${context}}` });
      t.equal(r.status, 200, `${c.name}: ${context} answered (${r.body.slice(0, 200)})`);
      return r.json() as { permissions: string[]; cached: boolean };
    };
    const first = await ask(c.holds);
    t.same(first.permissions, ['c:x'], `${c.name}: ${c.holds} is granted`);
    t.equal((await ask(c.holds)).cached, true, `${c.name}: the same input again is a cache hit`);
    for (const context of c.fails) {
      const r = await ask(context);
      t.same(r.permissions, [], `${c.name}: ${context} is not granted (cached: ${r.cached})`);
    }
    if (c.attributes !== undefined) {
      // the attribute case: the other attribute values instead of other contexts
      for (const attributes of ['{"team.lead": false}', '{}', '{"team": {"lead": true}}']) {
        const r = await ask(c.holds, attributes);
        t.same(r.permissions, [], `${c.name}: attributes ${attributes} are not granted (cached: ${r.cached})`);
      }
    }
  }
}
