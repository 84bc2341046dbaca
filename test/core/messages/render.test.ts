// Rendering messages: values go in as inert, escaped, bounded text; a placeholder
// without a value stays as written; parameter paths are checked and never reach a
// prototype; hostile values and expression-like placeholders change nothing.

import t from 'tap';
import { MAX_MESSAGE, MAX_VALUE, parseTemplate, placeholdersOf, renderTemplate, valueText } from '../../../src/core/messages/template.js';
import { isParamPath, parseParamPath, resolveParam } from '../../../src/core/messages/params.js';
import { compileMessage, compileScriptMessage } from '../../../src/core/messages/compile-message.js';
import { Localizer } from '../../../src/core/messages/localize.js';
import type { DocumentError } from '../../../src/core/document/types.js';
import type { MessageRefDocument } from '../../../src/core/messages/types.js';

const subject = { id: 'user:mia', roles: [], groups: [], attributes: { name: 'Mia', nested: { team: 'blue' } } };

/** Render a reference's fallback for these request values. */
function render(ref: MessageRefDocument, inputs: Parameters<typeof resolveParam>[1] = { subject }): string {
  const errors: DocumentError[] = [];
  const message = compileMessage(ref, 'message', errors);
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return new Localizer({ namespaces: [], languages: [], inputs }).render(message).text;
}

t.test('templates: placeholders are {name}; every other brace is text', async (t) => {
  t.same(parseTemplate('Purging {doc} needs an admin'), ['Purging ', { name: 'doc' }, ' needs an admin']);
  t.same(parseTemplate('{ {x} }'), ['{ ', { name: 'x' }, ' }']);
  t.same(parseTemplate('{a.b} {1x} {} {x y} {{z}}'), ['{a.b} {1x} {} {x y} {', { name: 'z' }, '}']);
  t.same(placeholdersOf(parseTemplate('{a} {b} {a}')), ['a', 'b']);
});

t.test('values are filled in from request paths', async (t) => {
  const inputs = {
    subject,
    resource: { type: 'document', id: 'doc-7', attributes: { pages: 12, draft: false } },
    context: { ip: '10.0.0.1', deep: { a: { b: 'x' } } },
    facts: { risk: 30 },
  };
  t.equal(render({ key: 'k', fallback: '{u} {n} {team} {t} {d} {p} {dr} {ip} {deep} {risk}', params: {
    u: 'subject.id', n: 'subject.attributes.name', team: 'subject.attributes.nested.team', t: 'resource.type', d: 'resource.id',
    p: 'resource.attributes.pages', dr: 'resource.attributes.draft', ip: 'context.ip', deep: 'context.deep.a.b', risk: 'facts.risk',
  } }, inputs), 'user:mia Mia blue document doc-7 12 false 10.0.0.1 x 30');
  t.equal(render({ key: 'k', fallback: 'at {t}', params: { t: 'context.when' } }, { subject, context: { when: new Date('2025-03-04T10:00:00Z') } }), 'at 2025-03-04T10:00:00.000Z', 'dates as ISO 8601');
});

t.test('a missing value leaves its placeholder as written', async (t) => {
  t.equal(render({ key: 'k', fallback: 'Purging {doc} needs an admin', params: { doc: 'resource.id' } }), 'Purging {doc} needs an admin', 'no resource');
  t.equal(render({ key: 'k', fallback: 'Purging {doc}' }), 'Purging {doc}', 'no param for the placeholder');
  for (const value of [null, { a: 1 }, ['a'], Number.NaN, Number.POSITIVE_INFINITY]) {
    t.equal(render({ key: 'k', fallback: 'v={v}', params: { v: 'context.v' } }, { subject, context: { v: value } }), 'v={v}', `${JSON.stringify(value)} is no value`);
  }
  t.equal(render({ key: 'k' }), 'k', 'no fallback and no catalogue text: the key');
});

t.test('values are escaped: no markup, no control or bidi characters', async (t) => {
  const v = (value: unknown) => render({ key: 'k', fallback: '[{v}]', params: { v: 'context.v' } }, { subject, context: { v: value } });
  t.equal(v('<script>alert("x")</script>'), '[&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;]');
  t.equal(v("Tom & Jerry's"), '[Tom &amp; Jerry&#39;s]');
  t.equal(v('a\u0000b\nc\td\u001b[31me\u007f\u0085'), '[a\uFFFDb\uFFFDc\uFFFDd\uFFFD[31me\uFFFD\uFFFD]');
  t.equal(v('abc\u202Eevil\u2066x\u2069\u200F'), '[abc\uFFFDevil\uFFFDx\uFFFD\uFFFD]', 'bidi overrides (Trojan Source)');
  t.equal(v('line\u2028sep'), '[line\uFFFDsep]');
  t.equal(v('lone \uD800 surrogate'), '[lone \uFFFD surrogate]');
  t.equal(v('emoji 😀 ok'), '[emoji 😀 ok]', 'surrogate pairs are characters');
  t.equal(v('Müller-Lüdenscheidt'), '[Müller-Lüdenscheidt]');
});

t.test('values that look like placeholders or expressions stay inert', async (t) => {
  for (const value of ['{doc}', '{ {x} }', '{__proto__}', '{constructor}', '${process.exit()}', '{{7*7}}', '#{1+1}']) {
    t.equal(render({ key: 'k', fallback: '{v} / {doc}', params: { v: 'context.v', doc: 'resource.id' } }, { subject, context: { v: value }, resource: { id: 'd1' } }), `${value} / d1`, `${value} is text`);
  }
  // Placeholders named like Object.prototype members find no value: they stay as written.
  t.equal(render({ key: 'k', fallback: '{__proto__} {constructor} {toString} {hasOwnProperty}' }), '{__proto__} {constructor} {toString} {hasOwnProperty}');
});

t.test('paths never reach a prototype', async (t) => {
  const p = (text: string) => parseParamPath(text)!;
  t.equal(resolveParam(p('context.constructor'), { subject, context: {} }), undefined);
  t.equal(resolveParam(p('context.toString'), { subject, context: {} }), undefined);
  t.equal(resolveParam(p('subject.attributes.constructor'), { subject }), undefined);
  t.equal(resolveParam(p('context.__proto__'), { subject, context: {} }), undefined);
  const own = JSON.parse('{"constructor": "sent by the caller"}') as Record<string, unknown>;
  t.equal(resolveParam(p('context.constructor'), { subject, context: own }), 'sent by the caller', 'an own property is a value like any other');
  t.equal(resolveParam(p('context.list.length'), { subject, context: { list: [1, 2] } }), undefined, 'no walking into lists');
  t.equal(resolveParam(p('resource.id'), { subject, resource: Object.create({ id: 'inherited' }) as object }), undefined);
});

t.test('parameter paths: request values only, never expressions', async (t) => {
  for (const ok of ['subject.id', 'subject.attributes.x', 'subject.attributes.a.b.c.d', 'resource.id', 'resource.type', 'resource.attributes.owner', 'context.ip', 'context.a.b.c.d', 'facts.risk']) {
    t.ok(isParamPath(ok), ok);
  }
  for (const bad of ['subject', 'subject.roles', 'subject.name', 'subject.attributes', 'resource', 'resource.owner', 'context', 'facts', 'facts.a.b',
    'context.a.b.c.d.e', 'context.x + 1', 'context["x"]', 'context.x()', 'context.1x', 'ns.name', 'now', 'context..x', 'context.x.', ' context.x', 'x'.repeat(300)]) {
    t.notOk(isParamPath(bad), JSON.stringify(bad));
  }
  const errors: DocumentError[] = [];
  compileMessage({ key: 'bad key!', params: { ok: 'resource.id', bad: 'context.x + 1', '1x': 'resource.id' } }, 'rules[0].message', errors);
  t.same(errors.map((e) => e.path).sort(), ['rules[0].message.key', 'rules[0].message.params', 'rules[0].message.params.bad']);
});

t.test('bounds: 200 characters per value, 2048 per message, read in bounded time', async (t) => {
  t.equal(MAX_VALUE, 200);
  t.equal(MAX_MESSAGE, 2048);
  const long = 'x'.repeat(10 * 1024 * 1024);
  const started = performance.now();
  const text = valueText(long)!;
  // A hang guard only (speed lives in bench/messages.ts): the value is cut to its
  // bound, and a quadratic walk over 10 MB would take far longer than this.
  t.ok(performance.now() - started < 2000, 'a 10 MB value is not read beyond its bound');
  t.equal([...text].length, MAX_VALUE);
  t.ok(text.endsWith('…'), 'a cut value ends with an ellipsis');
  t.equal(valueText('<'.repeat(1000)), '&lt;'.repeat(199) + '…', 'counted in characters before escaping, never cut inside an entity');
  t.equal([...valueText('😀'.repeat(500))!].length, MAX_VALUE, 'never cut inside a surrogate pair');

  const template = parseTemplate('{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}{n}');
  const values = (s: string) => () => valueText(s.repeat(300));
  const huge = renderTemplate(template, values('<'));
  t.ok(huge.length <= MAX_MESSAGE, `a message is at most ${MAX_MESSAGE} characters (${huge.length})`);
  t.ok(huge.endsWith('…'), 'a cut message ends with an ellipsis');
  t.match(huge.slice(0, -1), /^(&lt;|…)+$/, 'never cut inside an entity');
  const literal = renderTemplate(parseTemplate('y'.repeat(2048)), () => undefined);
  t.equal(literal.length, 2048, 'a text of exactly the bound is kept whole');
  t.ok(renderTemplate(parseTemplate('z'.repeat(1500) + '{a}'), values('z')).length <= MAX_MESSAGE);
});

t.test('scripts may return a message table', async (t) => {
  t.equal(compileScriptMessage('plain'), 'plain');
  t.equal(compileScriptMessage(undefined), undefined);
  const ref = compileScriptMessage({ key: 'policy.x', fallback: 'X {d}', params: { d: 'resource.id' } });
  t.match(ref, { key: 'policy.x', fallback: ['X ', { name: 'd' }] });
  for (const [bad, why] of [[{ fallback: 'x' }, /key/], [{ key: 'a b' }, /key/], [{ key: 'k', extra: 1 }, /unknown field extra/], [{ key: 'k', params: { d: 'os.exit' } }, /request value path/],
    [{ key: 'k', fallback: 3 }, /fallback must be a string/], [{ key: 'k', params: { d: 3 } }, /must be strings/], [[1, 2], /string or a table/], [42, /string or a table/]] as const) {
    t.throws(() => compileScriptMessage(bad), why, JSON.stringify(bad));
  }
});
