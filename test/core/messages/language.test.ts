// Choosing the language of reasons and the catalogue text: request field, then
// Accept-Language by q-value, then the subject attribute, then the default; regional
// tags fall back to their language; along a path the most specific namespace wins.

import t from 'tap';
import { canonicalTag, isLanguageTag, languageChain, parseAcceptLanguage, preferredLanguages, truncations } from '../../../src/core/messages/language.js';
import { CatalogueIndex, compileCatalogue } from '../../../src/core/messages/catalogue.js';
import { LanguageNegotiator } from '../../../src/core/evaluate/request-reasons.js';
import type { CompiledCatalogue } from '../../../src/core/messages/types.js';

t.test('tags: BCP 47 shape, canonical case', async (t) => {
  for (const ok of ['de', 'pt-BR', 'zh-Hant-TW', 'es-419', 'sr-Latn', 'en-US-x-twain', 'gsw']) t.ok(isLanguageTag(ok), ok);
  for (const bad of ['', 'd', 'x-private', 'de_DE', 'de-', '-de', 'de--AT', 'deutsch1', 'de AT', '*', 'en-US;q=1', 'a'.repeat(36), 'de-toolongsubtag']) t.notOk(isLanguageTag(bad), JSON.stringify(bad));
  t.equal(canonicalTag('PT-br'), 'pt-BR');
  t.equal(canonicalTag('zh-hant-tw'), 'zh-Hant-TW');
  t.equal(canonicalTag('ES-419'), 'es-419');
  t.equal(canonicalTag('en-US-x-AB'), 'en-US-x-ab', 'private-use subtags stay lower case');
});

t.test('regional fallback drops subtags (RFC 4647 lookup)', async (t) => {
  t.same(truncations('pt-BR'), ['pt-BR', 'pt']);
  t.same(truncations('zh-Hant-TW'), ['zh-Hant-TW', 'zh-Hant', 'zh']);
  t.same(truncations('en-US-x-twain'), ['en-US-x-twain', 'en-US', 'en'], 'a singleton never ends a range');
  t.same(languageChain(['pt-BR'], 'en'), ['pt-BR', 'pt', 'en'], 'then the default language');
  t.same(languageChain(['de-AT', 'fr', 'de'], 'en-GB'), ['de-AT', 'de', 'fr', 'en-GB', 'en']);
  t.same(languageChain([], 'en'), ['en']);
});

t.test('Accept-Language: by q-value, ties in header order; q=0, * and junk left out', async (t) => {
  t.same(parseAcceptLanguage('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5'), ['fr-CH', 'fr', 'en', 'de']);
  t.same(parseAcceptLanguage('en;q=0.3, fr;q=0.9, de;q=0.8'), ['fr', 'de', 'en']);
  t.same(parseAcceptLanguage('de;q=1.0,en;Q=1,it'), ['de', 'en', 'it'], 'equal q keeps the order sent');
  t.same(parseAcceptLanguage('de;q=0, en'), ['en'], 'q=0 means "not this"');
  t.same(parseAcceptLanguage('de;q=2, en;q=abc, fr;level=1, es_ES, it;q=0.5'), ['it'], 'malformed entries are skipped');
  t.same(parseAcceptLanguage(' DE-at ;q=0.5 , en-gb'), ['en-GB', 'de-AT'], 'whitespace and case');
  t.same(parseAcceptLanguage(''), []);
  t.same(parseAcceptLanguage(undefined), []);
  t.same(parseAcceptLanguage(',,,;q=1,'), []);
  const many = Array.from({ length: 1000 }, (_, i) => `x${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26) % 26)};q=0.${i % 10}`).join(',');
  t.ok(parseAcceptLanguage(many).length <= 16, 'a hostile header yields a bounded list');
});

t.test('sources: request field, else Accept-Language, else the subject attribute', async (t) => {
  t.same(preferredLanguages({ requested: 'de', acceptLanguage: 'fr', attribute: 'it' }), ['de']);
  t.same(preferredLanguages({ acceptLanguage: 'fr;q=0.5, es', attribute: 'it' }), ['es', 'fr']);
  t.same(preferredLanguages({ attribute: 'it-CH' }), ['it-CH']);
  t.same(preferredLanguages({ acceptLanguage: '*', attribute: 'it' }), ['it'], 'a header naming no language falls through');
  t.same(preferredLanguages({ attribute: 42 }), [], 'an attribute that is no tag is ignored');
  t.same(preferredLanguages({}), []);
  const n = new LanguageNegotiator({ defaultLanguage: 'en', languageAttribute: 'locale' });
  t.same(n.chain(undefined, undefined, n.attributeOf({ locale: 'de-CH', language: 'fr' })), ['de-CH', 'de', 'en'], 'the configured attribute');
  t.same(n.chain(undefined, undefined, n.attributeOf(JSON.parse('{"__proto__": {"locale": "fr"}}') as Record<string, unknown>)), ['en'], 'only an own attribute');
  t.same(n.chain('pt-BR', 'de', undefined), ['pt-BR', 'pt', 'en']);
  t.equal(n.chain('pt-BR', 'de', undefined), n.chain('pt-BR', 'de', undefined), 'negotiated once, then remembered');
  const none = new LanguageNegotiator({ defaultLanguage: 'de', languageAttribute: '' });
  t.same(none.chain(undefined, undefined, none.attributeOf({ '': 'fr', language: 'fr' })), ['de'], 'no attribute configured');
});

function catalogue(key: string, namespace: string | undefined, language: string, messages: Record<string, string>): CompiledCatalogue {
  const r = compileCatalogue({ key, kind: 'messages', language, messages, ...(namespace ? { namespace } : {}) });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.catalogue;
}

t.test('catalogues: language first, then the most specific namespace of the path', async (t) => {
  const org = 'org:57af7f6d-f6f7-4af1-b182-3a30440fa781';
  const index = new CatalogueIndex([
    catalogue('global-messages.en', undefined, 'en', { a: 'global en a', b: 'global en b', c: 'global en c' }),
    catalogue('global-messages.de', undefined, 'DE', { a: 'global de a', b: 'global de b' }),
    catalogue('org-messages.de', undefined, 'de', { a: 'org de a' }),
    catalogue(`${org}-messages.de`, org, 'de', { a: 'acme de a', b: 'acme de b' }),
    catalogue('global-messages.de-AT', undefined, 'de-at', { b: 'global de-AT b' }),
  ]);
  const path = ['global', 'org', org];
  const text = (namespaces: string[], languages: string[], key: string) => {
    const f = index.find(namespaces, languages, key);
    return f ? `${f.language}: ${f.template.join('')}` : undefined;
  };
  t.equal(text(path, ['de', 'en'], 'a'), 'de: acme de a', 'the most specific namespace wins');
  t.equal(text(['global', 'org'], ['de', 'en'], 'a'), 'de: org de a');
  t.equal(text(['global'], ['de', 'en'], 'a'), 'de: global de a');
  t.equal(text(['org', 'global'], ['de', 'en'], 'a'), 'de: global de a', 'the path order decides, not the namespace names');
  t.equal(text(path, ['de-AT', 'de', 'en'], 'b'), 'de-AT: global de-AT b', 'a more specific language beats a more specific namespace');
  t.equal(text(path, ['de', 'en'], 'c'), 'en: global en c', 'a key missing in one language: the next language');
  t.equal(text(path, ['fr', 'en'], 'a'), 'en: global en a');
  t.equal(text(path, ['fr'], 'a'), undefined);
  t.equal(text(['elsewhere'], ['de', 'en'], 'a'), undefined, 'catalogues off the path do not count');
  t.equal(text(path, ['de', 'en'], 'zzz'), undefined);
  t.equal(text(path, ['de'], '__proto__'), undefined);
  t.equal(text(path, ['de'], 'constructor'), undefined);
});

t.test('two catalogues of one language in one namespace: read in key order', async (t) => {
  const index = new CatalogueIndex([
    catalogue('global-messages.de.zz', undefined, 'de', { a: 'zz' }),
    catalogue('global-messages.de', undefined, 'de', { a: 'first', b: 'only here' }),
  ]);
  t.equal(index.find(['global'], ['de'], 'a')?.catalogue, 'global-messages.de');
  index.setNamespace('global', [catalogue('global-messages.de.zz', undefined, 'de', { a: 'zz' })]);
  t.equal(index.find(['global'], ['de'], 'a')?.catalogue, 'global-messages.de.zz', 'a namespace is replaced as a whole');
  t.equal(index.find(['global'], ['de'], 'b'), undefined);
  index.setNamespace('global', []);
  t.equal(index.size, 0);
});
