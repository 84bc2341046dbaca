// What a localized reason costs in the check path: the same denied check through the
// decision service (decision cached, as in production), once with a plain-text message
// and once with a catalogue reference rendered in German with two parameters, plus an
// allowed check (no reason at all) as the floor. Run: node --import tsx bench/messages.ts
import { bench, run, summary } from 'mitata';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createServices } from '../src/compose.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import type { CheckRequest, RequestMeta } from '../src/core/request.js';

const services = await createServices(loadConfig({}), pino({ level: 'silent' }), new MemoryStore());
const put = (key: string, text: string) => services.policies!.put(key, text, 'yaml', {});
const rules = (message: string) => `rules:
  - id: members
    subjects: ["role:member"]
    grant: ["document:*"]
  - id: secrets-stay-inside
    subjects: ["*"]
    when: 'resource.attributes.classification == "secret"'
    deny: ["document:export"]
    message: ${message}
`;
await put('plain-documents', `key: plain-documents\n${rules('"Secret documents are not exported"')}`);
await put('localized-documents', `key: localized-documents\n${rules('{ key: policy.documents.export_secret, fallback: "{user} may not export {doc}", params: { doc: resource.id, user: subject.id } }')}`);
for (const [lang, text] of [['en', '{user} may not export the secret document {doc}'], ['de', '{user} darf das geheime Dokument {doc} nicht exportieren']] as const) {
  await put(`localized-messages.${lang}`, `key: localized-messages.${lang}\nkind: messages\nlanguage: ${lang}\nmessages:\n  policy.documents.export_secret: "${text}"\n`);
}

const request = (namespace: string, permission: string, language?: string): CheckRequest => ({
  subject: { id: 'user:mia', roles: ['member'] },
  namespace,
  resource: { type: 'document', id: 'q3-plan', attributes: { classification: 'secret' } },
  permission,
  ...(language ? { language } : {}),
});
const check = (req: CheckRequest, meta: RequestMeta = {}) => services.decisions.check(req, meta);

const plain = request('plain', 'document:export');
const localized = request('localized', 'document:export', 'de');
const negotiated = request('localized', 'document:export');
const acceptLanguage = { acceptLanguage: 'fr-CH, fr;q=0.9, de;q=0.8, en;q=0.5' };
const allowed = request('plain', 'document:read');
const shown = check(localized).reason;
if (shown?.text !== 'user:mia darf das geheime Dokument q3-plan nicht exportieren' || check(plain).reason?.key !== undefined) {
  throw new Error(`unexpected reasons: ${JSON.stringify([shown, check(plain).reason])}`);
}
if (check(negotiated, acceptLanguage).reason?.language !== 'de' || !check(allowed).allowed) throw new Error('unexpected answers');

summary(() => {
  bench('check allowed (no reason)', () => check(allowed));
  bench('check denied, plain-text reason', () => check(plain));
  bench('check denied, localized reason (language: de, 2 params)', () => check(localized));
  bench('check denied, localized reason (Accept-Language, 4 ranges)', () => check(negotiated, acceptLanguage));
});
await run();

// The same four as checks per CPU-second of this process (CPU time, not wall time, so
// other load on the machine counts less), in interleaved rounds; the median is printed.
function perCpuSecond(fn: () => unknown): number {
  let n = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < 200_000) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    const d = process.cpuUsage(start);
    used = d.user + d.system;
  }
  return n / (used / 1e6);
}
const rows: Array<[string, () => unknown]> = [
  ['allowed (no reason)', () => check(allowed)],
  ['denied, plain-text reason', () => check(plain)],
  ['denied, localized reason (language: de)', () => check(localized)],
  ['denied, localized reason (Accept-Language)', () => check(negotiated, acceptLanguage)],
];
for (const [, fn] of rows) for (let i = 0; i < 20_000; i++) fn();
const samples = rows.map(() => [] as number[]);
for (let round = 0; round < 7; round++) rows.forEach(([, fn], i) => samples[i]!.push(perCpuSecond(fn)));
rows.forEach(([name], i) => {
  const sorted = samples[i]!.sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`${name.padEnd(46)} ${Math.round(median).toLocaleString('en-US').padStart(9)} checks/CPU-s  (${(1e6 / median).toFixed(2)} µs each)`);
});
await services.close();
