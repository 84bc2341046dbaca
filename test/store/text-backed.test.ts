// Text-backed records (src/store/text-backed.ts): a record keeps its document's text and
// kind, not the parsed tree; `document` parses the text again when read and gives what the
// writer stored. The file store and the policy manager hold only such records once a
// document compiled; a broken document keeps its tree (its errors come from it).

import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseText } from '../../src/core/document/parse.js';
import type { DocumentFormat } from '../../src/core/document/types.js';
import { documentKind, documentOfText, isTextBacked, textBacked } from '../../src/store/text-backed.js';
import { recordOf, type NewPolicy, type StoredDocument } from '../../src/store/store.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { PolicyManager } from '../../src/engine/policy-manager.js';
import { PolicyService } from '../../src/engine/policy-service.js';
import { DEFAULT_PARSE_LIMITS } from '../../src/core/document/parse.js';

const YAML = [
  '# who may edit',
  'key: org-editors',
  'namespace: org',
  'rules:',
  '  - id: edit   # the main rule',
  '    subjects: ["role:editor"]',
  '    grant: ["document:*"]',
  "    when: 'resource.attributes.owner == subject.id && context.note != \"x\\\\y\"'",
  '',
].join('\n');
const JSON_TEXT = JSON.stringify({ key: 'global-attributes', kind: 'registry', resource: { owner: { type: 'string' } }, context: { note: { type: 'string' } } }, null, 2);

function newPolicy(text: string, format: DocumentFormat): NewPolicy {
  const parsed = parseText(text, format);
  if (!parsed.ok) throw new Error('fixture does not parse');
  const document = parsed.documents[0]!.value as StoredDocument;
  return { key: (document as { key: string }).key, namespace: 'global.org', ordinal: null, disabled: false, format, text, document };
}

t.test('a text-backed record gives the document its writer stored, parsed anew each read', async (t) => {
  for (const [text, format] of [[YAML, 'yaml'], [JSON_TEXT, 'json']] as const) {
    const plain = newPolicy(text, format);
    const backed = textBacked(plain);
    t.ok(isTextBacked(backed));
    t.notOk(isTextBacked(plain), 'the original is left as it was');
    t.same(backed.document, plain.document, `${format}: the same document`);
    t.same(Object.keys(backed).sort(), Object.keys(plain).sort(), 'the same fields (document enumerable)');
    t.same(JSON.parse(JSON.stringify(backed)), JSON.parse(JSON.stringify(plain)), 'serialises the same');
    const first = backed.document as { key: string };
    first.key = 'changed';
    t.not((backed.document as { key: string }).key, 'changed', 'a reader that changes its tree changes no one else\'s');
    t.equal(textBacked(backed), backed, 'wrapping twice is wrapping once');
  }
});

t.test('the kind is kept, not parsed: documentKind reads it without the text', async (t) => {
  const backed = textBacked(newPolicy(JSON_TEXT, 'json'));
  t.equal(documentKind(backed), 'registry');
  t.equal(documentKind(newPolicy(YAML, 'yaml')), undefined, 'a policy declares none');
  backed.text = 'not json {';
  t.equal(documentKind(backed), 'registry', 'the text is not read for the kind');
  t.throws(() => backed.document, /no longer parses/, 'a text that no longer parses is an error, never a different document');
});

t.test('recordOf keeps a record text-backed; a plain record stays plain', async (t) => {
  const backed = textBacked(newPolicy(YAML, 'yaml'));
  const record = recordOf(backed, new Date('2026-12-06T00:00:00Z'));
  t.ok(isTextBacked(record));
  t.equal(record.updatedAt, '2026-12-06T00:00:00.000Z');
  t.match(record.etag, /^"/);
  t.equal(documentKind(record), undefined);
  t.same(record.document, newPolicy(YAML, 'yaml').document);
  const spread = { ...record };
  t.notOk(isTextBacked(spread), 'a spread copy holds a tree of its own (the getter ran)');
  t.equal(documentKind(spread), undefined);
  t.same(spread.document, record.document);
  t.notOk(isTextBacked(recordOf(newPolicy(YAML, 'yaml'))));
});

t.test('a stored text above the default parse limits still parses (it was accepted under wider ones)', async (t) => {
  const rules = Array.from({ length: 9000 }, (_, i) => ({ id: `r${i}`, subjects: [`user:u${i}`], grant: [`document:read-${'x'.repeat(100)}`] }));
  const text = JSON.stringify({ key: 'big', rules });
  t.ok(Buffer.byteLength(text) > DEFAULT_PARSE_LIMITS.maxBytes);
  t.equal((documentOfText(text, 'json') as { rules: unknown[] }).rules.length, 9000);
});

t.test('the file store and the manager keep text-backed records; a broken file keeps its tree; a write through the service stays text-backed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pe-text-backed-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'org-editors.yaml'), YAML);
  await writeFile(join(dir, 'global-attributes.json'), JSON_TEXT);
  await writeFile(join(dir, 'broken.yaml'), 'key: org-broken\nnamespace: org\nrules:\n  - grant: 7\n');
  const store = new FileStore({ dir, logger: { warn() {} } });
  await store.open();
  const logger = { info() {}, warn() {}, error() {} };
  const manager = new PolicyManager({ store, pollIntervalMs: 60_000, staleAfterMs: 600_000, resyncIntervalMs: 0, logger });
  await manager.start();
  t.teardown(async () => {
    manager.stop();
    await store.close();
  });
  const records = new Map(manager.policyDocuments().map((d) => [d.key, d.record]));
  t.same(store.problems().map((p) => p.file), ['broken.yaml'], 'only the broken file has problems');
  t.ok(isTextBacked(records.get('org-editors')!), 'a compiled document: text-backed in the manager');
  t.ok(isTextBacked((await store.get('org-editors'))!), 'and in the file store');
  t.notOk(isTextBacked(records.get('org-broken')!), 'a broken one keeps its tree');
  t.same(records.get('org-editors')!.document, newPolicy(YAML, 'yaml').document);
  const compiled = manager.policyByKey('org-editors');
  t.ok(compiled !== undefined && compiled !== 'broken');
  if (compiled !== undefined && compiled !== 'broken') t.same(compiled.document, newPolicy(YAML, 'yaml').document, 'the compiled form reads the same document');
  t.equal(manager.registry !== undefined, true, 'the registry (text-backed once compiled) is found by its kept kind');

  // A write through the service: stored and applied text-backed, answered with its document.
  const policies = new PolicyService({ store, manager, parseLimits: DEFAULT_PARSE_LIMITS });
  const text = YAML.replace('document:*', 'report:*');
  const put = await policies.put('org-editors', text, 'yaml', {});
  t.ok(isTextBacked(put.record));
  t.match(put.record.document, { rules: [{ grant: ['report:*'] }] });
  const after = manager.policyDocuments().find((d) => d.key === 'org-editors')!.record;
  t.ok(isTextBacked(after));
  t.equal(after.text, text, 'the text as written, comments and all');
});
