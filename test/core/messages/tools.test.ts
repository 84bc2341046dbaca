// Messages in the tools: the policy test runner asserts a reason's key, text and
// language (and says what differed); `policy-engine validate` prints message warnings
// without failing; the language settings are checked at start.

import t from 'tap';
import { compileSuite } from '../../../src/testing/compile-suite.js';
import { parseSuite } from '../../../src/testing/parse-suite.js';
import { runSuite } from '../../../src/testing/run-suite.js';
import { loadConfig, ConfigError } from '../../../src/config/config.js';
import { runCli } from '../../cli/run-cli.js';

const cli = runCli(['validate', '--languages', 'en,de', 'examples/messages']);
const cliBad = runCli(['validate', '--languages', 'en,de_DE', 'examples/messages']);

const SUITE = `name: reasons
defaultLanguage: de
namespace: global
policies:
  - key: global-p
    rules:
      - id: no-purge
        subjects: ["*"]
        deny: ["doc:purge"]
        message: { key: doc.purge, fallback: "No purge of {d}", params: { d: resource.id } }
  - { key: global-messages.de, kind: messages, language: de, messages: { doc.purge: "Kein Löschen von {d}" } }
cases:
  - name: the suite's default language
    subject: u
    resource: { id: r1 }
    expect: { reasons: { "doc:purge": { key: doc.purge, text: Kein Löschen von r1, language: de } } }
  - name: no catalogue in the language asked for, then the default
    subject: u
    language: fr
    acceptLanguage: "en"
    expect: { reasons: { "doc:purge": { text: "Kein Löschen von {d}", language: de } } }
  - name: a wrong expectation
    subject: u
    resource: { id: r1 }
    expect: { reasons: { "doc:purge": { key: doc.other, language: null } } }
`;

t.test('the suite runner compares only the fields given, and says what differed', async (t) => {
  const parsed = parseSuite(SUITE, 'yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const compiled = compileSuite(parsed.suite, () => ({ documents: [], problems: [] }));
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const result = runSuite(compiled.suite);
  t.same(result.cases.map((c) => c.passed), [true, true, false]);
  t.same(result.cases[2]!.diff, [
    'reasons:',
    '  - doc:purge: refused: key doc.other, no catalogue text',
    '  + doc:purge: refused: "Kein Löschen von r1" [key doc.purge, language de] (rule no-purge of global-p)',
  ]);
  const bad = parseSuite('name: s\nnamespace: global\npolicies: []\ncases:\n  - name: c\n    subject: u\n    language: de_DE\n    expect: { reasons: { "a:b": { text: x, extra: 1 } } }\n', 'yaml');
  t.notOk(bad.ok);
  if (!bad.ok) {
    t.same(bad.problems.map((p) => `${p.path}: ${p.message}`).sort(), [
      'cases[0].expect.reasons.a:b.extra: unknown field',
      'cases[0].language: must be a BCP 47 language tag, e.g. de or pt-BR',
    ]);
  }
});

t.test('policy-engine validate prints message warnings, and still exits 0', async (t) => {
  const r = await cli;
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.ok(lines.includes('examples/messages/global-documents.yaml: global-documents: rules[4].message.key: warning: message policy.documents.locked has no text in de'), r.stdout);
  t.ok(lines.includes('examples/messages/global-documents.yaml: global-documents: rules[5].message.key: warning: message policy.documents.publish_needs_review has no text in en, de'));
  t.match(lines.at(-1), /^✓ 4 policy files \(4 documents\), 0 suites: valid$/);
  const bad = await cliBad;
  t.equal(bad.code, 2, 'a bad language is a usage error');
  t.match(bad.stderr, /de_DE is not a BCP 47 language tag/);
});

t.test('settings: LANGUAGE_ATTRIBUTE, MESSAGE_LANGUAGES, and tags checked at start', async (t) => {
  const c = loadConfig({});
  t.equal(c.languageAttribute, 'language');
  t.same(c.messageLanguages, []);
  const set = loadConfig({ LANGUAGE_ATTRIBUTE: 'locale', MESSAGE_LANGUAGES: 'en, de ,pt-BR', DEFAULT_LANGUAGE: 'de' });
  t.equal(set.languageAttribute, 'locale');
  t.same(set.messageLanguages, ['en', 'de', 'pt-BR']);
  t.throws(() => loadConfig({ DEFAULT_LANGUAGE: 'german!' }), ConfigError);
  t.throws(() => loadConfig({ MESSAGE_LANGUAGES: 'en,xx_YY' }), /xx_YY.*is not a BCP 47 language tag/);
});
