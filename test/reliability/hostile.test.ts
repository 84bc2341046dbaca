// Hostile input catalogue (README "Failure behaviour: invalid input"): every case goes
// through real HTTP to a service on the file store (the store where a key becomes a file
// name), and must get a 4xx — never a 5xx — with a stable `code` from src/errors.ts,
// within a time bound; the store's full listing and its directory are unchanged; and
// after each case the server still answers a known evaluation correctly and
// Object.prototype is untouched. Table-driven: one named row per case.

import t from 'tap';
import net from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { httpSender, type Send } from '../helpers/http.js';
import { loadDocument } from '../../src/core/compile/load-document.js';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { checkConfusionCases } from '../helpers/cache-confusion.js';

interface Reply {
  status: number;
  body: string;
}

interface Case {
  name: string;
  run: () => Promise<Reply>;
  /** the code the body must carry (one of several where more than one is right); it must be in src/errors.ts */
  code: string | readonly string[];
  /** the response must come within this long (default 3000 ms) */
  maxMs?: number;
}

const dir = await mkdtemp(join(tmpdir(), 'pe-hostile-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const store = new FileStore({ dir });
// Forward-auth gets a route table (outside the store's directory) and a subject header.
const routesDir = await mkdtemp(join(tmpdir(), 'pe-hostile-routes-'));
t.teardown(() => rm(routesDir, { recursive: true, force: true }));
await writeFile(join(routesDir, 'routes.yaml'), 'kind: routes\nroutes:\n  - {method: GET, path: "/orgs/{org}/docs/{doc}", namespace: "global.org:{org}", permission: "document:read", resource: "document:{doc}"}\n');
const { app } = await testApp(t, { store, env: { FORWARD_AUTH_ROUTES: join(routesDir, 'routes.yaml'), FORWARD_AUTH_SUBJECT_HEADER: 'X-User' } });
const send: Send = await httpSender(app);
const address = app.server.address() as net.AddressInfo;
const origin = `http://127.0.0.1:${address.port}`;

// ------------------------------------------------------------------ request helpers

const JSON_CT = { 'content-type': 'application/json' };
const YAML_CT = { 'content-type': 'application/yaml' };

async function http(method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: string | object, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await send({ method, url, payload: typeof payload === 'object' ? JSON.stringify(payload) : payload, headers: typeof payload === 'object' ? { ...JSON_CT, ...headers } : headers });
  return { status: r.status, body: r.body };
}
const evaluate = (body: string | object, headers: Record<string, string> = JSON_CT) => http('POST', '/v1/evaluate', typeof body === 'string' ? body : JSON.stringify(body), headers);
const check = (body: object) => http('POST', '/v1/check', JSON.stringify(body), JSON_CT);
const putYaml = (key: string, text: string) => http('PUT', `/v1/policies/${key}`, text, YAML_CT);
const putJson = (key: string, doc: unknown) => http('PUT', `/v1/policies/${key}`, typeof doc === 'string' ? doc : JSON.stringify(doc), JSON_CT);
const bulk = (text: string, headers = YAML_CT) => http('POST', '/v1/policies', text, headers);
const authzen = (path: string, body: string | object) => http('POST', `/access/v1/${path}`, typeof body === 'string' ? body : JSON.stringify(body), JSON_CT);
const az = { subject: { type: 'user', id: 'alice' }, action: { name: 'document:read' }, resource: { type: 'document', id: 'd1' } };
const forwardAuth = (uri: string, headers: Record<string, string> = {}, path = '/v1/forward-auth') => http('GET', path, undefined, { 'x-forwarded-method': 'GET', 'x-forwarded-uri': uri, 'x-user': 'user:alice', ...headers });

/** Bytes as the body (fetch, so invalid UTF-8 reaches the server as sent). */
async function bytes(method: string, url: string, body: Uint8Array, headers: Record<string, string>): Promise<Reply> {
  const r = await fetch(origin + url, { method, body, headers });
  return { status: r.status, body: await r.text() };
}

/** A request written byte for byte on a socket, for what fetch refuses to send. */
function raw(request: string | Buffer, timeoutMs = 5000): Promise<Reply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port: address.port });
    const done = () => {
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const sep = text.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, body: sep >= 0 ? Buffer.from(text.slice(sep + 4), 'latin1').toString('utf8') : '' });
    };
    socket.setTimeout(timeoutMs, done);
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', done);
    // Half-close after the request: the server still answers (HTTP servers allow half-open).
    socket.end(request);
  });
}
const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const rawHost = `Host: 127.0.0.1:${address.port}`;

// ------------------------------------------------------------------ hostile values

const nested = (open: string, close: string, n: number, inner = '') => open.repeat(n) + inner + close.repeat(n);
const okPolicy = (key: string) => `key: ${key}\nrules:\n  - subjects: ["*"]\n    grant: ["x:read"]\n`;
const aliasBomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`),
  'key: global-bomb', 'rules: []', ''].join('\n');
const hundredK = Array.from({ length: 100_000 }, (_, i) => i);
/** A YAML policy of `n` rules (about 100 bytes each). */
const yamlRules = (n: number) => ['key: global-big', 'rules:', ...Array.from({ length: n }, (_, i) => `  - id: r${i}\n    subjects: ["user:u${i}", "role:r${i}"]\n    grant: ["p:x${i}:read", "p:x${i}:write"]`)].join('\n') + '\n';
/** 2,000 rules (~200 KB, under the 256 KB inline limit): over the 1,000-rule limit. */
const bigYaml = yamlRules(2000);
const protoPoison = '{"polluted":"yes"}';
const condPolicy = (when: string) => ({ key: 'global-cond', rules: [{ subjects: ['*'], when, grant: ['c:x'] }] });
const inlineDeny = (when: string) => [
  { key: 'x-base', rules: [{ subjects: ['*'], grant: ['*'] }] },
  { key: 'x-guard', rules: [{ subjects: ['*'], when, deny: ['secret:*'] }] },
];
/** 10k nested arrays, as JSON text (JSON.stringify itself cannot write that deep). */
const deepList = nested('[', ']', 10_000);

// ------------------------------------------------------------------ the catalogue

const CASES: Case[] = [
  // malformed and deeply nested JSON
  { name: 'JSON: truncated object', run: () => evaluate('{"subject": "u", "namespace": '), code: 'BODY_MALFORMED' },
  { name: 'JSON: trailing garbage', run: () => evaluate('{"subject":"u","namespace":"global"} trailing'), code: 'BODY_MALFORMED' },
  { name: 'JSON: single quotes', run: () => evaluate("{'subject':'u','namespace':'global'}"), code: 'BODY_MALFORMED' },
  { name: 'JSON: NaN literal', run: () => evaluate('{"subject":"u","namespace":"global","context":{"x":NaN}}'), code: 'BODY_MALFORMED' },
  { name: 'JSON: empty body', run: () => evaluate(''), code: 'BODY_MALFORMED' },
  { name: 'JSON: 10k unclosed [', run: () => evaluate('['.repeat(10_000)), code: 'BODY_MALFORMED' },
  { name: 'JSON: 10k nested arrays as the body', run: () => evaluate(nested('[', ']', 10_000)), code: 'REQUEST_INVALID' },
  { name: 'JSON: 10k nested objects as the subject', run: () => evaluate(`{"subject":${nested('{"a":', '}', 10_000, '1')},"namespace":"global"}`), code: 'REQUEST_INVALID' },
  { name: 'PUT JSON policy nested 10k deep', run: () => putJson('global-deep', `{"key":"global-deep","rules":[{"subjects":["*"],"grant":["a"],"x":${nested('[', ']', 10_000)}}]}`), code: 'BODY_MALFORMED' },
  { name: 'PUT YAML policy nested 10k deep (flow)', run: () => putYaml('global-deep', `key: global-deep\nrules: ${nested('[', ']', 10_000)}\n`), code: 'BODY_MALFORMED' },
  { name: 'bulk JSON nested 10k deep', run: () => bulk(nested('[', ']', 10_000), JSON_CT), code: 'BODY_MALFORMED' },

  // AuthZEN (SPEC §12): unknown fields are ignored, but what is read is bounded and typed
  { name: 'authzen: 2 MB evaluation body', run: () => authzen('evaluation', { ...az, context: { blob: 'x'.repeat(2 * 1024 * 1024) } }), code: 'BODY_TOO_LARGE' },
  { name: 'authzen: 10k nested objects as subject properties', run: () => authzen('evaluation', `{"subject":{"type":"user","id":"a","properties":{"x":${nested('{"a":', '}', 10_000, '1')}}},"action":{"name":"read"},"resource":{"type":"d","id":"1"}}`), code: ['REQUEST_INVALID', 'BODY_MALFORMED'] },
  { name: 'authzen: 10k nested arrays as the body', run: () => authzen('evaluations', deepList), code: ['REQUEST_INVALID', 'BODY_MALFORMED'] },
  { name: 'authzen: 10k nested objects in a search context', run: () => authzen('search/action', `{"subject":{"type":"user","id":"a"},"resource":{"type":"d","id":"1"},"context":{"x":${nested('{"a":', '}', 10_000, '1')}}}`), code: ['REQUEST_INVALID', 'BODY_MALFORMED'] },
  { name: 'authzen: the subject is a string', run: () => authzen('evaluation', { ...az, subject: 'user:alice' }), code: 'REQUEST_INVALID' },
  { name: 'authzen: the subject id is a number', run: () => authzen('evaluation', { ...az, subject: { type: 'user', id: 7 } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: the action name is a list', run: () => authzen('evaluation', { ...az, action: { name: ['read'] } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: properties is a list', run: () => authzen('evaluation', { ...az, resource: { type: 'd', id: '1', properties: [1, 2] } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a type holding ":"', run: () => authzen('evaluation', { ...az, subject: { type: 'user:admin', id: 'x' } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a 300-character id', run: () => authzen('evaluation', { ...az, subject: { type: 'user', id: 'u'.repeat(300) } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a control character in an id', run: () => authzen('evaluation', { ...az, resource: { type: 'd', id: 'a\nb' } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: 100k roles in properties', run: () => authzen('evaluation', { ...az, subject: { type: 'user', id: 'a', properties: { roles: hundredK.map(String) } } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: roles holding an object', run: () => authzen('evaluation', { ...az, subject: { type: 'user', id: 'a', properties: { roles: [{ admin: true }] } } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a wildcard action', run: () => authzen('evaluation', { ...az, action: { name: '*' } }), code: 'PERMISSION_INVALID' },
  { name: 'authzen: traversal in context.namespace', run: () => authzen('evaluation', { ...az, context: { namespace: 'global/../admin' } }), code: 'NAMESPACE_INVALID' },
  { name: 'authzen: a namespace that is an object', run: () => authzen('evaluation', { ...az, context: { namespace: { $ne: 1 } } }), code: 'NAMESPACE_INVALID' },
  { name: 'authzen: __proto__ in subject properties', run: () => authzen('evaluation', `{"subject":{"type":"user","id":"a","properties":{"__proto__":${protoPoison}}},"action":{"name":"read"},"resource":{"type":"d","id":"1"}}`), code: 'BODY_MALFORMED' },
  { name: 'authzen: 257 evaluations', run: () => authzen('evaluations', { ...az, evaluations: Array.from({ length: 257 }, () => ({})) }), code: 'REQUEST_INVALID' },
  { name: 'authzen: an unknown evaluations semantic', run: () => authzen('evaluations', { ...az, evaluations: [{}], options: { evaluations_semantic: 'deny_all' } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a semantic that is not a string', run: () => authzen('evaluations', { ...az, evaluations: [{}], options: { evaluations_semantic: ['execute_all'] } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: evaluations is an object', run: () => authzen('evaluations', { ...az, evaluations: { 0: {} } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: an evaluation with no subject anywhere', run: () => authzen('evaluations', { action: az.action, evaluations: [{ resource: az.resource }] }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a negative page limit', run: () => authzen('search/subject', { ...az, page: { limit: -1 } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a page limit of a million', run: () => authzen('search/action', { ...az, page: { limit: 1_000_000 } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a forged page token', run: () => authzen('search/subject', { ...az, page: { token: Buffer.from('{"a":"zzz","d":"forged"}').toString('base64url') } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a 100 kB page token', run: () => authzen('search/resource', { ...az, page: { token: 't'.repeat(100_000) } }), code: 'REQUEST_INVALID' },
  { name: 'authzen: a resource search without a type', run: () => authzen('search/resource', { ...az, resource: {} }), code: 'REQUEST_INVALID' },
  { name: 'authzen: POST to the metadata', run: () => http('POST', '/.well-known/authzen-configuration', '{}', JSON_CT), code: 'ROUTE_NOT_FOUND' },

  // forward-auth (SPEC §12): refused, never guessed at; every refusal denies
  { name: 'forward-auth: ../ traversal', run: () => forwardAuth('/orgs/acme/../admin/docs/d1'), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: %2e%2e traversal', run: () => forwardAuth('/orgs/acme/docs/%2e%2e'), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: an encoded slash', run: () => forwardAuth('/orgs/acme%2Fx/docs/d1'), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: an encoded NUL', run: () => forwardAuth('/orgs/acme%00/docs/d1'), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: a dot adding a namespace level', run: () => forwardAuth('/orgs/acme.admin/docs/d1'), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: bad percent-encoding', run: () => forwardAuth('/orgs/%E0%A4%A/docs/d1'), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: a 9,000-character URI', run: () => forwardAuth(`/orgs/${'a'.repeat(9000)}/docs/d1`), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: an absolute URL as the URI', run: () => forwardAuth('http://evil.example/orgs/acme/docs/d1'), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: two URI headers that disagree', run: () => forwardAuth('/orgs/acme/docs/d1', { 'x-original-uri': '/orgs/other/docs/d1' }), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: a method that is no token', run: () => forwardAuth('/orgs/acme/docs/d1', { 'x-forwarded-method': 'G\tET' }), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: Envoy prefix with traversal', run: () => http('GET', '/v1/forward-auth/orgs/acme/docs/..%2f..%2fx', undefined, { 'x-user': 'user:alice' }), code: 'FORWARD_AUTH_URI_REFUSED' },
  { name: 'forward-auth: no original URI', run: () => http('GET', '/v1/forward-auth', undefined, { 'x-user': 'user:alice' }), code: 'REQUEST_INVALID' },
  { name: 'forward-auth: no subject', run: () => forwardAuth('/orgs/acme/docs/d1', { 'x-user': '' }), code: 'FORWARD_AUTH_UNAUTHENTICATED' },
  { name: 'forward-auth: a 1,000-character subject', run: () => forwardAuth('/orgs/acme/docs/d1', { 'x-user': 'u'.repeat(1000) }), code: 'FORWARD_AUTH_UNAUTHENTICATED' },
  { name: 'forward-auth: no route', run: () => forwardAuth('/admin'), code: 'FORWARD_AUTH_NO_ROUTE' },
  { name: 'forward-auth: a 2 MB body is not read', run: () => http('POST', '/v1/forward-auth', 'x'.repeat(2 * 1024 * 1024), { 'content-type': 'application/json', 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/admin', 'x-user': 'u' }), code: ['BODY_TOO_LARGE', 'FORWARD_AUTH_NO_ROUTE'] },

  // YAML: aliases, merge keys, tags
  { name: 'YAML: alias bomb (billion laughs)', run: () => putYaml('global-bomb', aliasBomb), code: 'BODY_MALFORMED' },
  { name: 'YAML: a single anchor and alias', run: () => putYaml('global-alias', 'key: global-alias\nrules:\n  - &r\n    subjects: ["*"]\n    grant: ["a"]\n  - *r\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: merge key from an anchor', run: () => putYaml('global-merge', 'base: &b {subjects: ["*"], grant: ["a"]}\nkey: global-merge\nrules:\n  - <<: *b\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: merge key with an inline map', run: () => putYaml('global-merge', 'key: global-merge\nrules:\n  - <<: {subjects: ["*"], grant: ["a"]}\n'), code: ['BODY_MALFORMED', 'POLICY_INVALID'] },
  { name: 'YAML: !!js/function tag', run: () => putYaml('global-tag', 'key: global-tag\nrules:\n  - subjects: !!js/function "function () { return [\'*\'] }"\n    grant: ["a"]\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: !!js/undefined tag', run: () => putYaml('global-tag', 'key: !!js/undefined ""\nrules: []\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: !!python/object tag', run: () => putYaml('global-tag', 'key: global-tag\nrules: !!python/object:os.system ["rm -rf /"]\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: !custom tag', run: () => putYaml('global-tag', 'key: !custom global-tag\nrules: []\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: !!binary tag', run: () => putYaml('global-tag', 'key: global-tag\ndescription: !!binary aGVsbG8=\nrules: []\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: duplicate mapping key', run: () => putYaml('global-dup', 'key: global-dup\nkey: global-other\nrules: []\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: two documents on a single PUT', run: () => putYaml('global-two', `${okPolicy('global-two')}---\n${okPolicy('global-two')}`), code: 'BODY_MALFORMED' },
  { name: 'YAML: tabs as indentation', run: () => putYaml('global-tab', 'key: global-tab\nrules:\n\t- subjects: ["*"]\n'), code: 'BODY_MALFORMED' },
  { name: 'YAML: alias bomb in a bulk import', run: () => bulk(`${okPolicy('bulk-ok')}---\n${aliasBomb}`), code: 'BODY_MALFORMED' },
  { name: 'YAML: custom tag inside the policies mode', run: () => evaluate({ subject: 'u', policies: ['key: x-a\nrules: !custom []\n'] }), code: 'POLICY_INVALID' },
  { name: 'YAML: alias bomb inside the policies mode', run: () => evaluate({ subject: 'u', policies: [aliasBomb.replace('global-bomb', 'x-bomb')] }), code: 'POLICY_INVALID' },

  // huge arrays, strings and bodies
  { name: 'huge: 100k roles', run: () => evaluate({ subject: { id: 'u', roles: hundredK.map(String) }, namespace: 'global' }), code: 'REQUEST_INVALID' },
  { name: 'huge: 10k permissions to check', run: () => check({ subject: 'u', namespace: 'global', permissions: hundredK.slice(0, 10_000).map((i) => `p:${i}`) }), code: 'REQUEST_INVALID' },
  { name: 'huge: 100k-character subject', run: () => evaluate({ subject: 'u'.repeat(100_000), namespace: 'global' }), code: 'REQUEST_INVALID' },
  { name: 'huge: 9,000-character namespace path', run: () => evaluate({ subject: 'u', namespace: 'a'.repeat(9000) }), code: 'REQUEST_INVALID' },
  { name: 'huge: 1,001 rules', run: () => putJson('global-rules', { key: 'global-rules', rules: Array.from({ length: 1001 }, () => ({ subjects: ['*'], grant: ['a'] })) }), code: 'POLICY_INVALID' },
  { name: 'huge: 10k grants in one rule', run: () => putJson('global-grants', { key: 'global-grants', rules: [{ subjects: ['*'], grant: hundredK.slice(0, 10_000).map((i) => `p:${i}`) }] }), code: 'POLICY_INVALID' },
  { name: 'huge: 500 KB description', run: () => putJson('global-desc', { key: 'global-desc', description: 'd'.repeat(500_000), rules: [] }), code: 'POLICY_INVALID' },
  // Parsing a 200 KB document takes about 100 ms on an idle core (see also the scaling test below).
  { name: 'huge: 200 KB YAML policy is refused quickly', run: () => putYaml('global-big', bigYaml), code: 'POLICY_INVALID' },
  { name: 'huge: 200 KB YAML policy in the policies mode', run: () => evaluate({ subject: 'u', policies: [bigYaml] }), code: 'POLICY_INVALID' },
  { name: 'oversize: 2 MB evaluate body', run: () => evaluate({ subject: 'u', namespace: 'global', context: { blob: 'x'.repeat(2 * 1024 * 1024) } }), code: 'BODY_TOO_LARGE' },
  { name: 'oversize: 2 MB policy PUT', run: () => putYaml('global-huge', `key: global-huge\ndescription: "${'x'.repeat(2 * 1024 * 1024)}"\nrules: []\n`), code: 'BODY_TOO_LARGE' },
  { name: 'oversize: 2 MB bulk import', run: () => bulk(`${okPolicy('bulk-a')}---\n${'#'.repeat(2 * 1024 * 1024)}\n`), code: 'BODY_TOO_LARGE' },

  // invalid UTF-8
  { name: 'UTF-8: invalid bytes in the namespace', run: () => bytes('POST', '/v1/evaluate', Buffer.concat([Buffer.from('{"subject":"u","namespace":"glob'), Buffer.from([0xc3, 0x28]), Buffer.from('al"}')]), JSON_CT), code: 'NAMESPACE_INVALID' },
  { name: 'UTF-8: invalid bytes in a YAML grant', run: () => bytes('PUT', '/v1/policies/global-utf', Buffer.concat([Buffer.from('key: global-utf\nrules:\n  - subjects: ["*"]\n    grant: ["a:'), Buffer.from([0xff, 0xfe]), Buffer.from('"]\n')]), YAML_CT), code: 'POLICY_INVALID' },
  { name: 'UTF-8: random binary as JSON', run: () => bytes('POST', '/v1/evaluate', Buffer.from([0x7b, 0x80, 0x81, 0xfe, 0xff, 0x00, 0x7d]), JSON_CT), code: 'BODY_MALFORMED' },
  { name: 'UTF-8: random binary as YAML', run: () => bytes('PUT', '/v1/policies/global-bin', Buffer.from([0x6b, 0x3a, 0x00, 0x80, 0xff, 0x1b, 0x5b]), YAML_CT), code: ['BODY_MALFORMED', 'POLICY_INVALID'] },
  { name: 'UTF-8: overlong "/" (%C0%AF) in a key', run: () => http('PUT', '/v1/policies/global-%C0%AF..%C0%AFx', okPolicy('global-x'), YAML_CT), code: ['KEY_INVALID', 'REQUEST_INVALID'] },
  { name: 'UTF-8: UTF-16 body', run: () => bytes('POST', '/v1/evaluate', Buffer.from('{"subject":"u","namespace":"global"}', 'utf16le'), { 'content-type': 'application/json; charset=utf-16' }), code: ['BODY_MALFORMED', 'MEDIA_TYPE_UNSUPPORTED'] },

  // __proto__ / constructor / prototype at every level
  { name: 'proto: __proto__ at the top of an evaluate body', run: () => evaluate(`{"subject":"u","namespace":"global","__proto__":${protoPoison}}`), code: 'BODY_MALFORMED' },
  { name: 'proto: constructor.prototype at the top of an evaluate body', run: () => evaluate(`{"subject":"u","namespace":"global","constructor":{"prototype":${protoPoison}}}`), code: 'BODY_MALFORMED' },
  { name: 'proto: prototype at the top of an evaluate body', run: () => evaluate(`{"subject":"u","namespace":"global","prototype":${protoPoison}}`), code: 'REQUEST_INVALID' },
  { name: 'proto: __proto__ in the subject', run: () => evaluate(`{"subject":{"id":"u","__proto__":{"roles":["admin"]}},"namespace":"global"}`), code: 'BODY_MALFORMED' },
  { name: 'proto: __proto__ in subject attributes', run: () => evaluate(`{"subject":{"id":"u","attributes":{"__proto__":${protoPoison}}},"namespace":"global"}`), code: 'BODY_MALFORMED' },
  { name: 'proto: constructor.prototype in the context', run: () => evaluate(`{"subject":"u","namespace":"global","context":{"constructor":{"prototype":${protoPoison}}}}`), code: 'BODY_MALFORMED' },
  { name: 'proto: __proto__ deep in resource attributes', run: () => evaluate(`{"subject":"u","namespace":"global","resource":{"attributes":{"a":[{"b":{"__proto__":${protoPoison}}}]}}}`), code: 'BODY_MALFORMED' },
  { name: 'proto: __proto__ in an inline policy', run: () => evaluate(`{"subject":"u","policies":[{"key":"x-a","__proto__":${protoPoison},"rules":[]}]}`), code: 'BODY_MALFORMED' },
  { name: 'proto: __proto__ at the top of a PUT policy (JSON)', run: () => putJson('global-proto', `{"key":"global-proto","__proto__":${protoPoison},"rules":[]}`), code: 'POLICY_INVALID' },
  { name: 'proto: __proto__ in a rule (JSON)', run: () => putJson('global-proto', `{"key":"global-proto","rules":[{"subjects":["*"],"grant":["a"],"__proto__":${protoPoison}}]}`), code: 'POLICY_INVALID' },
  { name: 'proto: constructor at the top of a PUT policy', run: () => putJson('global-proto', `{"key":"global-proto","constructor":{"prototype":${protoPoison}},"rules":[]}`), code: 'POLICY_INVALID' },
  { name: 'proto: prototype in a rule', run: () => putJson('global-proto', `{"key":"global-proto","rules":[{"subjects":["*"],"grant":["a"],"prototype":${protoPoison}}]}`), code: 'POLICY_INVALID' },
  { name: 'proto: __proto__ in a YAML policy', run: () => putYaml('global-proto', 'key: global-proto\n__proto__:\n  polluted: yes\nrules: []\n'), code: 'POLICY_INVALID' },
  { name: 'proto: __proto__ in a bulk import', run: () => bulk(`[{"key":"bulk-a","rules":[]},{"key":"bulk-b","__proto__":${protoPoison},"rules":[]}]`, JSON_CT), code: 'POLICY_INVALID' },
  { name: 'proto: a predicate named __proto__', run: () => putJson('global-pred', { key: 'global-pred', predicates: JSON.parse('{"__proto__":"true"}') as Record<string, string>, rules: [{ subjects: ['*'], grant: ['a'] }] }), code: 'POLICY_INVALID' },
  { name: 'proto: a predicate named prototype', run: () => putJson('global-pred', { key: 'global-pred', predicates: { prototype: 'true' }, rules: [{ subjects: ['*'], when: 'prototype', grant: ['a'] }] }), code: 'POLICY_INVALID' },
  { name: 'proto: a predicate named constructor used by a rule', run: () => putJson('global-pred', { key: 'global-pred', predicates: { constructor: '1 == 2' }, rules: [{ subjects: ['*'], when: 'constructor', grant: ['a'] }, { subjects: ['*'] }] }), code: 'POLICY_INVALID' },
  { name: 'proto: a predicate named for (a CEL reserved word)', run: () => putJson('global-pred', { key: 'global-pred', predicates: { for: 'true' }, rules: [{ subjects: ['*'], grant: ['a'] }] }), code: 'POLICY_INVALID' },
  { name: 'proto: __proto__ in a query string', run: () => http('GET', '/v1/policies?__proto__[polluted]=yes'), code: 'REQUEST_INVALID' },

  // bad keys
  { name: 'key: path traversal ..%2F..%2Fetc%2Fpasswd', run: () => http('PUT', '/v1/policies/..%2F..%2Fetc%2Fpasswd', okPolicy('global-x'), YAML_CT), code: 'KEY_INVALID' },
  { name: 'key: traversal after a namespace', run: () => http('PUT', '/v1/policies/global-..%2F..%2Fx', okPolicy('global-x'), YAML_CT), code: 'KEY_INVALID' },
  { name: 'key: a literal .. segment (raw request line)', run: () => raw(head(['PUT /v1/policies/.. HTTP/1.1', rawHost, 'Content-Type: application/yaml', 'Content-Length: 13', 'Connection: close']) + 'key: ..\nrules'), code: ['KEY_INVALID', 'POLICY_INVALID', 'BODY_MALFORMED', 'ROUTE_NOT_FOUND'] },
  { name: 'key: 300 characters', run: () => http('PUT', `/v1/policies/global-${'k'.repeat(293)}`, okPolicy(`global-${'k'.repeat(293)}`), YAML_CT), code: 'KEY_INVALID' },
  { name: 'key: 2,000 characters (beyond the router limit)', run: () => http('PUT', `/v1/policies/global-${'k'.repeat(1993)}`, okPolicy('global-k'), YAML_CT), code: ['KEY_INVALID', 'REQUEST_INVALID', 'ROUTE_NOT_FOUND'] },
  { name: 'key: unicode', run: () => http('PUT', `/v1/policies/${encodeURIComponent('global-ünïcødé')}`, okPolicy('global-ünïcødé'), YAML_CT), code: 'KEY_INVALID' },
  { name: 'key: empty', run: () => http('PUT', '/v1/policies/', okPolicy('global-x'), YAML_CT), code: ['KEY_INVALID', 'ROUTE_NOT_FOUND'] },
  { name: 'key: NUL byte', run: () => http('PUT', '/v1/policies/global-a%00b', okPolicy('global-a'), YAML_CT), code: 'KEY_INVALID' },
  { name: 'key: newline (header injection attempt)', run: () => http('PUT', '/v1/policies/global-a%0D%0ASet-Cookie:x', okPolicy('global-a'), YAML_CT), code: 'KEY_INVALID' },
  { name: 'key: bad percent-encoding', run: () => http('GET', '/v1/policies/global-%ZZ'), code: ['KEY_INVALID', 'REQUEST_INVALID'] },
  { name: 'key: traversal on DELETE', run: () => http('DELETE', '/v1/policies/..%2F..%2Ftmp'), code: 'KEY_INVALID' },
  { name: 'key: traversal in the policy mode', run: () => evaluate({ subject: 'u', policy: '../../etc/passwd' }), code: 'KEY_INVALID' },
  { name: 'key: URL and document disagree', run: () => putYaml('global-a', okPolicy('global-b')), code: 'POLICY_KEY_MISMATCH' },
  { name: 'key: without a namespace prefix', run: () => putYaml('nodash', okPolicy('nodash')), code: 'POLICY_INVALID' },

  // bad namespaces
  { name: 'namespace: empty segment', run: () => evaluate({ subject: 'u', namespace: 'global..org' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: leading dot', run: () => evaluate({ subject: 'u', namespace: '.global' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: trailing dot', run: () => evaluate({ subject: 'u', namespace: 'global.' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: empty string', run: () => evaluate({ subject: 'u', namespace: '' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: a slash', run: () => evaluate({ subject: 'u', namespace: 'global/../org' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: a space', run: () => evaluate({ subject: 'u', namespace: 'glob al' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: unicode', run: () => evaluate({ subject: 'u', namespace: 'glöbal' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: "-" before any ":"', run: () => evaluate({ subject: 'u', namespace: 'org-x' }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: 33 levels', run: () => evaluate({ subject: 'u', namespace: Array(33).fill('a').join('.') }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: 129 characters', run: () => evaluate({ subject: 'u', namespace: 'n'.repeat(129) }), code: 'NAMESPACE_INVALID' },
  { name: 'namespace: a number', run: () => evaluate({ subject: 'u', namespace: 42 }), code: 'REQUEST_INVALID' },
  { name: 'namespace: a dot inside a document namespace', run: () => putJson('global-ns', { key: 'global-ns', namespace: 'global.org', rules: [] }), code: 'POLICY_INVALID' },

  // bad patterns
  ...(['a::b', '**', 'a:*b', Array(17).fill('a').join(':'), `a:${'s'.repeat(65)}`, '', 'dócument:read', 'a:', ':a', 'a b'] as const).map((p): Case => ({
    name: `pattern: ${JSON.stringify(p.length > 30 ? `${p.slice(0, 27)}…` : p)}`,
    run: () => putJson('global-pat', { key: 'global-pat', rules: [{ subjects: ['*'], grant: [p] }] }),
    code: 'POLICY_INVALID',
  })),
  { name: 'pattern: grant is a string, not a list', run: () => putJson('global-pat', { key: 'global-pat', rules: [{ subjects: ['*'], grant: 'a:b' }] }), code: 'POLICY_INVALID' },
  { name: 'pattern: check a wildcard', run: () => check({ subject: 'u', namespace: 'global', permission: 'document:*' }), code: 'PERMISSION_INVALID' },
  { name: 'pattern: check "a:"', run: () => check({ subject: 'u', namespace: 'global', permission: 'a:' }), code: 'PERMISSION_INVALID' },
  { name: 'pattern: one bad among several', run: () => check({ subject: 'u', namespace: 'global', permissions: ['a:b', 'a::b'] }), code: 'PERMISSION_INVALID' },

  // costly conditions
  { name: 'condition: 2,000 nested parentheses', run: () => putJson('global-cond', condPolicy(nested('(', ')', 2000, 'true'))), code: 'POLICY_INVALID' },
  { name: 'condition: 1,000 chained && (too many nodes)', run: () => putJson('global-cond', condPolicy(Array(1000).fill('true').join(' && '))), code: 'POLICY_INVALID' },
  { name: 'condition: longer than 4,096 characters', run: () => putJson('global-cond', condPolicy(`context.a == "${'x'.repeat(5000)}"`)), code: 'POLICY_INVALID' },
  { name: 'condition: nested comprehensions', run: () => putJson('global-cond', condPolicy('context.xs.all(x, context.xs.exists(y, y == x))')), code: 'POLICY_INVALID' },
  { name: 'condition: a 200-element list literal', run: () => putJson('global-cond', condPolicy(`context.x in [${hundredK.slice(0, 200).join(', ')}]`)), code: 'POLICY_INVALID' },
  { name: 'condition: not a bool', run: () => putJson('global-cond', condPolicy('1 + 1')), code: 'POLICY_INVALID' },
  // `matches` is RE2 (issue 16 item 2): what RE2 cannot run, or would run too large, is refused when written
  { name: 'condition: a backreference in matches (not RE2)', run: () => putJson('global-cond', condPolicy('context.s.matches("(a)\\\\1")')), code: 'POLICY_INVALID' },
  { name: 'condition: a lookahead in matches, inline', run: () => evaluate({ subject: 'u', policies: [condPolicy('context.s.matches("a(?=b)")')], context: { s: 'ab' } }), code: 'POLICY_INVALID' },
  { name: 'condition: a pattern expanding past 1,000 RE2 instructions', run: () => putJson('global-cond', condPolicy('context.s.matches("x{300}y{300}z{300}w{300}")')), code: 'POLICY_INVALID' },
  { name: 'condition: a pattern longer than 1,000 characters', run: () => putJson('global-cond', condPolicy(`context.s.matches("${'a'.repeat(1001)}")`)), code: 'POLICY_INVALID' },
  { name: 'condition: an invalid pattern through POST /v1/test', run: () => http('POST', '/v1/test', { name: 's', namespace: 'global', policies: [condPolicy('context.s.matches("[")')], cases: [{ name: 'c', subject: 'u', expect: { default: true } }] }, JSON_CT), code: 'POLICY_INVALID' },
  { name: 'condition: over a 100k-item context list (a conditional deny)', run: () => check({ subject: 'u', policies: inlineDeny('context.xs.exists(x, x == 5)'), context: { xs: [5, ...hundredK] }, permission: 'secret:read' }), code: 'REQUEST_INVALID' },
  { name: 'condition: over a 10k-deep context list (a conditional deny)', run: () => http('POST', '/v1/check', `{"subject":"u","policies":${JSON.stringify(inlineDeny('context.xs.exists(x, x == 5)'))},"context":{"xs":[5,${deepList}]},"permission":"secret:read"}`, JSON_CT), code: 'REQUEST_INVALID' },
  { name: 'condition: a stored condition reading a 10k-deep context', run: () => http('POST', '/v1/check', `{"subject":"u","namespace":"cond","context":{"xs":[5,${deepList}]},"permission":"secret:read"}`, JSON_CT), code: 'REQUEST_INVALID' },

  // content types
  // fastify parses text/plain as a string, which the body schema then refuses: a 400 either way.
  { name: 'content-type: text/plain on evaluate', run: () => evaluate('{"subject":"u","namespace":"global"}', { 'content-type': 'text/plain' }), code: ['MEDIA_TYPE_UNSUPPORTED', 'REQUEST_INVALID'] },
  { name: 'content-type: form-urlencoded on evaluate', run: () => evaluate('subject=u&namespace=global', { 'content-type': 'application/x-www-form-urlencoded' }), code: 'MEDIA_TYPE_UNSUPPORTED' },
  { name: 'content-type: multipart on PUT', run: () => http('PUT', '/v1/policies/global-mp', '--b\r\n\r\nx\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' }), code: 'MEDIA_TYPE_UNSUPPORTED' },
  { name: 'content-type: YAML on evaluate', run: () => evaluate('subject: u\nnamespace: global\n', YAML_CT), code: 'MEDIA_TYPE_UNSUPPORTED' },
  { name: 'content-type: XML on PUT', run: () => http('PUT', '/v1/policies/global-xml', '<key>global-xml</key>', { 'content-type': 'application/xml' }), code: 'MEDIA_TYPE_UNSUPPORTED' },
  { name: 'content-type: missing on evaluate (raw)', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Length: 36', 'Connection: close']) + '{"subject":"u","namespace":"global"}'), code: 'MEDIA_TYPE_UNSUPPORTED' },
  { name: 'content-type: missing on PUT (raw)', run: () => raw(head(['PUT /v1/policies/global-ct HTTP/1.1', rawHost, 'Content-Length: 11', 'Connection: close']) + 'key: global'), code: 'MEDIA_TYPE_UNSUPPORTED' },
  { name: 'content-type: duplicate, the first one unsupported (raw)', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/xml', 'Content-Type: application/json', 'Content-Length: 36', 'Connection: close']) + '{"subject":"u","namespace":"global"}'), code: ['MEDIA_TYPE_UNSUPPORTED', 'REQUEST_INVALID'] },
  { name: 'content-type: garbage value', run: () => evaluate('{"subject":"u","namespace":"global"}', { 'content-type': ';;;===' }), code: 'MEDIA_TYPE_UNSUPPORTED' },

  // Content-Length lies and header abuse (raw sockets)
  { name: 'Content-Length: shorter than the body', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/json', 'Content-Length: 20', 'Connection: close']) + '{"subject":"u","namespace":"global"}'), code: ['BODY_MALFORMED', 'REQUEST_INVALID'] },
  { name: 'Content-Length: longer than the body, then the client closes', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/json', 'Content-Length: 500']) + '{"subject":"u"}'), code: ['BODY_MALFORMED', 'REQUEST_INVALID'], maxMs: 6000 },
  { name: 'Content-Length: not a number', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/json', 'Content-Length: abc', 'Connection: close']) + '{}'), code: ['BODY_MALFORMED', 'REQUEST_INVALID'] },
  { name: 'Content-Length: two different values', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 36', 'Connection: close']) + '{"subject":"u","namespace":"global"}'), code: ['BODY_MALFORMED', 'REQUEST_INVALID'] },
  { name: 'Content-Length with Transfer-Encoding (smuggling)', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked', 'Connection: close']) + '0\r\n\r\nGET /v1/policies HTTP/1.1\r\n\r\n'), code: ['BODY_MALFORMED', 'REQUEST_INVALID'] },
  { name: 'header: a 64 KB header', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/json', `X-Big: ${'b'.repeat(64 * 1024)}`, 'Content-Length: 2', 'Connection: close']) + '{}'), code: ['REQUEST_INVALID', 'HEADERS_TOO_LARGE'] },
  { name: 'header: 2,500 headers', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Content-Type: application/json', ...Array.from({ length: 2500 }, (_, i) => `X-H${i}: v`), 'Content-Length: 2', 'Connection: close']) + '{}'), code: ['REQUEST_INVALID', 'HEADERS_TOO_LARGE'] },
  { name: 'header: a 2 KB If-Match', run: () => http('PUT', '/v1/policies/global-im', okPolicy('global-im'), { ...YAML_CT, 'if-match': `"${'e'.repeat(2000)}"` }), code: 'REQUEST_INVALID' },

  // two modes, non-object bodies, wrong shapes
  { name: 'mode: namespace and policy', run: () => evaluate({ subject: 'u', namespace: 'global', policy: 'global-base' }), code: 'MODE_INVALID' },
  { name: 'mode: namespace and policies', run: () => evaluate({ subject: 'u', namespace: 'global', policies: [{ key: 'x-a', rules: [] }] }), code: 'MODE_INVALID' },
  { name: 'mode: all three', run: () => evaluate({ subject: 'u', namespace: 'global', policy: 'global-base', policies: [{ key: 'x-a', rules: [] }] }), code: 'MODE_INVALID' },
  { name: 'mode: none', run: () => evaluate({ subject: 'u' }), code: 'MODE_INVALID' },
  { name: 'mode: permission and permissions at once', run: () => check({ subject: 'u', namespace: 'global', permission: 'a:b', permissions: ['a:b'] }), code: 'REQUEST_INVALID' },
  ...(['null', '[]', '"x"', '42', 'true'] as const).map((b): Case => ({ name: `body: ${b} on evaluate`, run: () => evaluate(b), code: 'REQUEST_INVALID' })),
  ...(['null', '[]', '"x"', '42'] as const).map((b): Case => ({ name: `body: ${b} on PUT`, run: () => putJson('global-nb', b), code: ['POLICY_INVALID', 'BODY_MALFORMED'] })),
  { name: 'body: an object on bulk import', run: () => bulk('{"key":"bulk-a","rules":[]}', JSON_CT), code: ['BODY_MALFORMED', 'POLICY_INVALID'] },
  { name: 'body: empty policies list', run: () => evaluate({ subject: 'u', policies: [] }), code: 'REQUEST_INVALID' },
  { name: 'body: 101 inline policies', run: () => evaluate({ subject: 'u', policies: Array.from({ length: 101 }, (_, i) => ({ key: `x-${i}`, rules: [] })) }), code: 'REQUEST_INVALID' },
  { name: 'body: subject a number', run: () => evaluate({ subject: 7, namespace: 'global' }), code: 'REQUEST_INVALID' },
  { name: 'body: subject without id', run: () => evaluate({ subject: { roles: ['admin'] }, namespace: 'global' }), code: 'REQUEST_INVALID' },
  { name: 'body: roles not strings', run: () => evaluate({ subject: { id: 'u', roles: [{ admin: true }] }, namespace: 'global' }), code: 'REQUEST_INVALID' },
  { name: 'body: explain "yes"', run: () => evaluate({ subject: 'u', namespace: 'global', explain: 'yes' }), code: 'REQUEST_INVALID' },

  // If-Match garbage (on an existing key and on a new one)
  { name: 'If-Match: unquoted garbage', run: () => http('PUT', '/v1/policies/global-base', okPolicy('global-base'), { ...YAML_CT, 'if-match': 'garbage' }), code: 'PRECONDITION_FAILED' },
  { name: 'If-Match: a weak tag that matches nothing', run: () => http('PUT', '/v1/policies/global-base', okPolicy('global-base'), { ...YAML_CT, 'if-match': 'W/"nope"' }), code: 'PRECONDITION_FAILED' },
  { name: 'If-Match: * on a key that does not exist', run: () => http('PUT', '/v1/policies/global-new', okPolicy('global-new'), { ...YAML_CT, 'if-match': '*' }), code: 'PRECONDITION_FAILED' },
  { name: 'If-Match: a list of garbage on DELETE', run: () => http('DELETE', '/v1/policies/global-base', undefined, { 'if-match': '"a", , ,,"b", W/' }), code: 'PRECONDITION_FAILED' },
  { name: 'If-None-Match: a tag instead of *', run: () => http('PUT', '/v1/policies/global-new', okPolicy('global-new'), { ...YAML_CT, 'if-none-match': '"abc"' }), code: 'REQUEST_INVALID' },
  { name: 'If-None-Match: * on an existing key', run: () => http('PUT', '/v1/policies/global-base', okPolicy('global-base'), { ...YAML_CT, 'if-none-match': '*' }), code: 'PRECONDITION_FAILED' },

  // query-string abuse on the list route
  ...(['limit=0', 'limit=-1', 'limit=1e3', 'limit=abc', 'limit=501', 'limit=1&limit=2', 'namespace[$ne]=x', 'namespace=a&namespace=b', 'foo=bar', `namespace=${'n'.repeat(5000)}`, 'cursor=..%2F..%2Fetc', 'cursor=%00'] as const).map((q): Case => ({
    name: `query: ?${q.length > 40 ? `${q.slice(0, 37)}…` : q}`,
    run: () => http('GET', `/v1/policies?${q}`),
    code: 'REQUEST_INVALID',
  })),
  { name: 'query: ?namespace=a.b', run: () => http('GET', '/v1/policies?namespace=a.b'), code: 'NAMESPACE_INVALID' },
  { name: 'query: ?namespace=%ZZ', run: () => http('GET', '/v1/policies?namespace=%ZZ'), code: ['NAMESPACE_INVALID', 'REQUEST_INVALID'] },

  // impact previews: refused whole, nothing evaluated, nothing stored
  { name: 'preview: a body that is an array', run: () => http('POST', '/v1/preview', '[]', JSON_CT), code: 'REQUEST_INVALID' },
  { name: 'preview: unknown field', run: () => http('POST', '/v1/preview', { put: [], grant: true }, JSON_CT), code: 'REQUEST_INVALID' },
  { name: 'preview: __proto__ in a put document', run: () => http('POST', '/v1/preview', '{"put":[{"key":"global-x","rules":[],"__proto__":{"polluted":1}}]}', JSON_CT), code: ['BODY_MALFORMED', 'REQUEST_INVALID'] },
  { name: 'preview: a put that is a number', run: () => http('POST', '/v1/preview', { put: [42] }, JSON_CT), code: 'REQUEST_INVALID' },
  { name: 'preview: YAML bomb in a put', run: () => http('POST', '/v1/preview', { put: ['a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n'] }, JSON_CT), code: 'POLICY_INVALID' },
  { name: 'preview: YAML stream with a tag', run: () => http('POST', '/v1/preview', 'key: global-t\nrules: !!js/regexp /x/\n', YAML_CT), code: 'BODY_MALFORMED' },
  { name: 'preview: delete of a bad key', run: () => http('POST', '/v1/preview', { delete: ['../../etc/passwd'] }, JSON_CT), code: 'POLICY_INVALID' },
  { name: 'preview: delete query of 300 keys', run: () => http('POST', `/v1/preview?delete=${Array.from({ length: 300 }, (_, i) => `k-${i}`).join(',')}`, {}, JSON_CT), code: 'PREVIEW_LIMIT_EXCEEDED' },
  { name: 'preview: 101 requests', run: () => http('POST', '/v1/preview', { requests: Array.from({ length: 101 }, () => ({ subject: 'u', namespace: 'global' })) }, JSON_CT), code: 'PREVIEW_LIMIT_EXCEEDED' },
  { name: 'preview: a request without a namespace', run: () => http('POST', '/v1/preview', { requests: [{ subject: 'u' }] }, JSON_CT), code: 'REQUEST_INVALID' },
  { name: 'preview: now is not a time', run: () => http('POST', '/v1/preview', { now: '2025-13-45T99:99:99Z' }, JSON_CT), code: 'REQUEST_INVALID' },
  { name: 'preview: text/plain', run: () => http('POST', '/v1/preview', 'put: []', { 'content-type': 'text/plain' }), code: 'MEDIA_TYPE_UNSUPPORTED' },
  { name: 'preview: a registry that breaks stored documents', run: () => http('POST', '/v1/preview', { put: ['key: global-attributes\nkind: registry\ncontext:\n  xs: { type: string }\n'] }, JSON_CT), code: 'POLICY_INVALID' },
  { name: 'ui: an asset outside the bundle', run: () => http('GET', '/ui/assets/..%2F..%2Fpackage.json'), code: ['ROUTE_NOT_FOUND', 'REQUEST_INVALID'] },
  { name: 'ui: the page as an asset', run: () => http('GET', '/ui/assets/index.html'), code: 'ROUTE_NOT_FOUND' },

  // methods and routes
  { name: 'route: PATCH a policy', run: () => http('PATCH', '/v1/policies/global-base', '{}', JSON_CT), code: 'ROUTE_NOT_FOUND' },
  { name: 'route: GET the evaluate route', run: () => http('GET', '/v1/evaluate'), code: 'ROUTE_NOT_FOUND' },

  // browsers from other sites (no token on loopback): DNS rebinding, cross-origin pages
  { name: 'rebinding: a PUT with a foreign Host and Origin', run: () => raw(head([`PUT /v1/policies/global-evil HTTP/1.1`, `Host: attacker.example:${address.port}`, `Origin: http://attacker.example:${address.port}`, 'Content-Type: application/yaml', `Content-Length: ${okPolicy('global-evil').length}`, 'Connection: close']) + okPolicy('global-evil')), code: 'HOST_NOT_ALLOWED' },
  { name: 'rebinding: reading the policies under a foreign Host', run: () => raw(head(['GET /v1/policies HTTP/1.1', 'Host: attacker.example', 'Connection: close'])), code: 'HOST_NOT_ALLOWED' },
  { name: 'rebinding: a Host with a loopback prefix', run: () => raw(head(['GET /v1/policies HTTP/1.1', 'Host: 127.0.0.1.attacker.example', 'Connection: close'])), code: 'HOST_NOT_ALLOWED' },
  { name: 'cross-origin: a PUT from a foreign page', run: () => raw(head([`PUT /v1/policies/global-evil HTTP/1.1`, rawHost, 'Origin: https://attacker.example', 'Content-Type: application/yaml', `Content-Length: ${okPolicy('global-evil').length}`, 'Connection: close']) + okPolicy('global-evil')), code: 'ORIGIN_NOT_ALLOWED' },
  { name: 'cross-origin: a bulk import from a sandboxed frame (Origin: null)', run: () => raw(head(['POST /v1/policies HTTP/1.1', rawHost, 'Origin: null', 'Content-Type: application/yaml', `Content-Length: ${okPolicy('global-evil').length}`, 'Connection: close']) + okPolicy('global-evil')), code: 'ORIGIN_NOT_ALLOWED' },
  { name: 'cross-origin: inline policies from a foreign page', run: () => raw(head(['POST /v1/evaluate HTTP/1.1', rawHost, 'Origin: http://attacker.example', 'Content-Type: application/json', 'Content-Length: 2', 'Connection: close']) + '{}'), code: 'ORIGIN_NOT_ALLOWED' },
];

// ------------------------------------------------------------------ the run

const BASE = `key: global-base
rules:
  - subjects: ["*"]
    grant: ["document:read"]
  - subjects: ["role:editor"]
    grant: ["document:*"]
    deny: ["document:purge"]
`;
const COND = 'key: cond-guard\nrules:\n  - subjects: ["*"]\n    grant: ["*"]\n  - subjects: ["*"]\n    when: context.xs.exists(x, x == 5)\n    deny: ["secret:*"]\n';

async function snapshot(): Promise<string> {
  const page = await store.list({ limit: 100_000 });
  const files = (await readdir(dir)).sort();
  return JSON.stringify({ records: page.records.map((r) => [r.key, r.etag]), files });
}

async function knownAnswer(): Promise<string | undefined> {
  const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'user:alice', roles: ['editor'] }, namespace: 'global.org' } });
  if (r.status !== 200) return `status ${r.status} ${r.body.slice(0, 200)}`;
  const b = r.json();
  if (JSON.stringify([b.permissions, b.denied]) !== '[["document:*"],["document:purge"]]') return `wrong answer ${r.body.slice(0, 200)}`;
  const c = await send({ method: 'POST', url: '/v1/check', payload: { subject: 'u', namespace: 'cond', context: { xs: [1, 5] }, permission: 'secret:read' } });
  if (c.status !== 200 || c.json().allowed !== false) return `conditional deny broken: ${c.status} ${c.body.slice(0, 200)}`;
  return undefined;
}

function prototypeClean(): string | undefined {
  const keys = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  const expected = '__defineGetter__,__defineSetter__,__lookupGetter__,__lookupSetter__,__proto__,constructor,hasOwnProperty,isPrototypeOf,propertyIsEnumerable,toLocaleString,toString,valueOf';
  if (keys !== expected) return `Object.prototype has ${keys}`;
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || probe.roles !== undefined) return 'a fresh object inherits a polluted property';
  if (Object.getOwnPropertyNames(Array.prototype).includes('polluted')) return 'Array.prototype polluted';
  return undefined;
}

t.test('hostile input catalogue', async (t) => {
  t.equal((await send({ method: 'PUT', url: '/v1/policies/global-base', headers: YAML_CT, payload: BASE })).status, 201);
  t.equal((await send({ method: 'PUT', url: '/v1/policies/cond-guard', headers: YAML_CT, payload: COND })).status, 201);
  t.equal(await knownAnswer(), undefined, 'the known answers before the catalogue');
  const names = new Set<string>();
  const before = await snapshot();
  const slow: string[] = [];
  for (const c of CASES) {
    t.notOk(names.has(c.name), `case names are unique: ${c.name}`);
    names.add(c.name);
    const start = Date.now();
    let reply: Reply;
    try {
      reply = await c.run();
    } catch (err) {
      t.fail(`${c.name}: the request failed: ${(err as Error).message}`);
      continue;
    }
    const ms = Date.now() - start;
    let body: { code?: string; statusCode?: number } = {};
    try {
      body = JSON.parse(reply.body) as typeof body;
    } catch {
      // checked below: the body must carry a code
    }
    const wanted = typeof c.code === 'string' ? [c.code] : c.code;
    const summary = `${reply.status} ${reply.body.slice(0, 160)}`;
    t.ok(reply.status >= 400 && reply.status < 500, `${c.name}: 4xx (${summary})`);
    t.ok(body.code !== undefined && Object.hasOwn(ERROR_CODES, body.code), `${c.name}: a registered error code (${body.code})`);
    t.ok(body.code !== undefined && wanted.includes(body.code), `${c.name}: code ${wanted.join(' or ')} (got ${body.code})`);
    if (body.code !== undefined && Object.hasOwn(ERROR_CODES, body.code)) {
      t.equal(reply.status, ERROR_CODES[body.code as ErrorCode].status, `${c.name}: the status its code stands for`);
    }
    // A hang guard, generous enough for a loaded 2-core machine; speed is the benchmarks'.
    t.ok(ms <= (c.maxMs ?? 10_000), `${c.name}: answered in ${ms} ms (hang guard ${c.maxMs ?? 10_000} ms)`);
    if (ms > 500) slow.push(`${c.name} (${ms} ms)`);
    t.equal(await snapshot(), before, `${c.name}: nothing stored`);
    t.equal(await knownAnswer(), undefined, `${c.name}: the server is up and still answers correctly`);
    t.equal(prototypeClean(), undefined, `${c.name}: Object.prototype untouched`);
  }
  t.ok(CASES.length >= 60, `${CASES.length} cases`);
  t.comment(`${CASES.length} hostile cases; slower than 500 ms: ${slow.join(', ') || 'none'}`);
});

// Conditions whose cost grows with their inputs (issue 16 item 2): accepted as written
// (they are valid CEL), answered 200 in bounded time, failing closed on the CEL budget:
// a guarded grant is not given, a guarded deny still applies. Before the budget and RE2
// each of these held the event loop for seconds (25 s for the quadratic one).
const S50K = 'a'.repeat(50_000);
const L3K = Array.from({ length: 3000 }, (_, i) => i);
const COSTLY: Array<{ name: string; when: string; context: object; regexValue?: boolean }> = [
  { name: 'backtracking regex ^(a+)+$ on 28 characters', when: 'context.s.matches("^(a+)+$")', context: { s: 'a'.repeat(27) + 'b' }, regexValue: false },
  { name: 'quadratic comprehension over a 50 kB string', when: 'context.s.split("").all(c, !context.s.contains(c + "b"))', context: { s: S50K } },
  { name: 'indexOf per character of a 50 kB string', when: 'context.s.split("").exists(c, context.s.indexOf(c + "b") >= 0)', context: { s: S50K } },
  { name: 'a list of 3k lists compared', when: 'context.l.map(x, context.l) == context.l.map(x, context.l)', context: { l: L3K } },
  { name: 'membership over the list per item', when: 'context.l.all(x, x in context.l)', context: { l: L3K } },
  { name: 'hasAny of two 3k lists', when: 'hasAny(context.l, context.m)', context: { l: L3K, m: L3K.map((x) => -x - 1) } },
  { name: 'a 50 kB string quadrupled 6 times', when: 'cel.bind(a, context.s + context.s + context.s + context.s, cel.bind(b, a + a + a + a, cel.bind(c, b + b + b + b, cel.bind(d, c + c + c + c, cel.bind(e, d + d + d + d, cel.bind(f, e + e + e + e, f.contains("x")))))))', context: { s: S50K } },
  { name: 'a large pattern taken from the request', when: 'context.s.matches(context.p)', context: { s: S50K, p: '[\\p{L}\\p{N}]{490}' } },
];

t.test('hostile conditions: bounded and fail closed', async (t) => {
  for (const c of COSTLY) {
    const grant = [{ key: 'x-guard', rules: [{ id: 'g', subjects: ['*'], when: c.when, grant: ['secret:read'] }] }];
    for (const [shape, policies] of [['guarded grant', grant], ['guarded deny', inlineDeny(c.when)]] as const) {
      const start = Date.now();
      const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policies, context: c.context } });
      const ms = Date.now() - start;
      t.equal(r.status, 200, `${c.name}, ${shape}: answered`);
      const body = r.json();
      if (c.regexValue !== undefined) {
        t.same(body.conditionErrors, undefined, `${c.name}: RE2 answers (no error)`);
      } else {
        t.match(body.conditionErrors, [{ error: /^CEL_BUDGET_EXCEEDED/ }], `${c.name}, ${shape}: the CEL budget stops it`);
      }
      t.notOk((body.permissions as string[]).some((p) => p === '*' ? false : p.startsWith('secret')), `${c.name}, ${shape}: no secret granted`);
      if (shape === 'guarded deny') t.match(body.denied, c.regexValue === false ? [] : ['secret:*'], `${c.name}: the deny still applies`);
      t.ok(ms <= 1000, `${c.name}, ${shape}: answered in ${ms} ms (bound 1000 ms)`);
    }
    t.equal(await knownAnswer(), undefined, `${c.name}: the server still answers correctly`);
  }
});

t.test('reading a YAML document takes time linear in its size', async (t) => {
  // The body limit is 1 MB and the policies mode needs no token: a superlinear parser is a
  // denial of service. Timed on loadDocument itself (what every route runs on a YAML body,
  // in this process, no network in between) and compared as a ratio, so a busy machine
  // does not decide the outcome: 8× the text should cost about 8× the time; quadratic
  // work costs about 64×.
  const invalid = (rules: number) => `${yamlRules(rules)}colour: red\n`; // an unknown field: refused
  const once = (text: string) => {
    const start = performance.now();
    const r = loadDocument(text, 'yaml');
    const ms = performance.now() - start;
    t.notOk(r.ok, 'refused');
    return ms;
  };
  const smallText = invalid(150);
  const largeText = invalid(1200);
  once(smallText); // warm-up
  once(largeText);
  // Interleaved, best of each: a burst of load from elsewhere hits both sizes alike.
  let small = Infinity;
  let large = Infinity;
  for (let i = 0; i < 9; i++) {
    small = Math.min(small, once(smallText));
    large = Math.min(large, once(largeText));
  }
  t.comment(`reading a ${Math.round(smallText.length / 1024)} KB YAML policy: ${small.toFixed(1)} ms; ${Math.round(largeText.length / 1024)} KB: ${large.toFixed(1)} ms`);
  // 8× the text: linear work costs about 8×, quadratic about 64×; the bound sits between.
  t.ok(large / small < 32, `8× the text costs ${(large / small).toFixed(1)}× the time (linear ≈ 8, quadratic ≈ 64)`);
});

t.test('inputs a lossy cache key would confuse get their own answers', async (t) => {
  // Not 4xx cases: valid requests whose inputs differ only in what a lossy key drops (a
  // dotted key against a path, null against missing, ±Infinity against null, key order…).
  // The cases and their checks: test/helpers/cache-confusion.ts.
  await checkConfusionCases(t, send, 'hostilecache');
});

t.test('a consistency revision from the future answers at once (issue 16 item 12)', async (t) => {
  // Not a 4xx row of the catalogue: the documented answer for a revision this replica
  // cannot reach is 503 RELATIONS_STALE. What must not happen is the old 2 s store poll
  // per request, which any caller could multiply.
  const body = (atLeast: string) => ({ resource: 'document:d', permission: 'read', subject: 'user:u', consistency: { atLeast } });
  for (const atLeast of ['999999999999999', '1000000']) {
    const start = Date.now();
    const r = await http('POST', '/v1/relations/check', body(atLeast));
    const ms = Date.now() - start;
    t.same([r.status, (JSON.parse(r.body) as { code?: string }).code], [503, 'RELATIONS_STALE'], `atLeast ${atLeast}: ${r.body.slice(0, 160)}`);
    t.ok(ms < 1000, `answered in ${ms} ms (the old code waited 2 s)`);
  }
  // Many at once: the store reads they cost are counted in test/relations/consistency-bound.test.ts.
  const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => http('POST', '/v1/relations/check', body(String(10 ** 9 + i)))));
  t.ok(replies.every((r) => r.status === 503), '40 at once: 503 each');
  const health = await http('GET', '/healthz');
  t.equal(health.status, 200, 'the server still answers');
});
