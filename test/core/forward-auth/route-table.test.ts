// The forward-auth route table: compiling (every problem collected, traversal and
// encoded tricks refused in templates) and matching original requests (dot segments,
// encoded separators, bad encoding refused rather than normalized).

import t, { type Test } from 'tap';
import { compileRouteTable, type RouteTable } from '../../../src/core/forward-auth/route-table.js';
import { matchRoute, pathSegments } from '../../../src/core/forward-auth/match.js';

const doc = {
  kind: 'routes',
  routes: [
    { method: 'GET', path: '/orgs/{org}/documents/{doc}', namespace: 'global.org.org:{org}', permission: 'document:read', resource: 'document:{doc}' },
    { method: ['PUT', 'PATCH'], path: '/orgs/{org}/documents/{doc}', namespace: 'global.org.org:{org}', permission: 'document:write', resource: 'document:{doc}' },
    { method: '*', path: '/health', namespace: 'global', permission: 'health:read' },
    { method: 'GET', path: '/', namespace: 'global', permission: 'home:read' },
  ],
};

function table(t: Test): RouteTable {
  const c = compileRouteTable(doc);
  if (!c.ok) throw new Error(c.errors.join('\n'));
  t.equal(c.table.routes.length, 4);
  return c.table;
}

t.test('matching: templates filled, first match wins, methods', async (t) => {
  const tb = table(t);
  t.match(matchRoute(tb, 'GET', '/orgs/57af-1/documents/d1?x=1'), { kind: 'matched', namespace: 'global.org.org:57af-1', permission: 'document:read', resource: { type: 'document', id: 'd1' } });
  t.match(matchRoute(tb, 'patch', '/orgs/a/documents/b'), { kind: 'matched', permission: 'document:write' }, 'methods compare upper-cased');
  t.match(matchRoute(tb, 'DELETE', '/orgs/a/documents/b'), { kind: 'no-route' }, 'an unlisted method matches no route');
  t.match(matchRoute(tb, 'DELETE', '/health'), { kind: 'matched', permission: 'health:read' }, '* is any method');
  t.match(matchRoute(tb, 'GET', '/'), { kind: 'matched', permission: 'home:read' });
  t.match(matchRoute(tb, 'GET', '/orgs/a/documents'), { kind: 'no-route' });
  t.match(matchRoute(tb, 'GET', '/orgs/a/documents/b/c'), { kind: 'no-route' });
  t.match(matchRoute(tb, 'GET', '/org%73/a/documents/b'), { kind: 'matched' }, 'literals compare after decoding, as the upstream reads them');
  t.match(matchRoute(tb, 'GET', '/orgs/a/documents/caf%C3%A9'), { kind: 'matched', resource: { id: 'café' } });
});

t.test('matching: tricks in the original URI are refused, never normalized', async (t) => {
  const tb = table(t);
  const refused = [
    '/orgs/a/../b/documents/c', '/orgs/a/%2e%2e/documents/c', '/orgs/a/documents/.', '/orgs/%2E/documents/x',
    '/orgs/a%2fb/documents/c', '/orgs/a%2Fb/documents/c', '/orgs/a%5cb/documents/c', '/orgs/a\\b/documents/c',
    '/orgs//documents/c', '/orgs/a/documents/c/', '/orgs/a%00/documents/c', '/orgs/%zz/documents/c', '/orgs/%/documents/c',
    'orgs/a/documents/c', 'http://evil/orgs/a/documents/c', `/orgs/${'a'.repeat(9000)}/documents/c`,
  ];
  for (const uri of refused) t.equal(matchRoute(tb, 'GET', uri).kind, 'refused', `refused: ${uri.slice(0, 60)}`);
  // A value that is no namespace part: a dot would add a level, other characters are refused.
  t.match(matchRoute(tb, 'GET', '/orgs/a.b/documents/c'), { kind: 'refused', reason: /namespace/ }, 'a dot in a namespace parameter cannot climb or add a level');
  t.match(matchRoute(tb, 'GET', '/orgs/a%20b/documents/c'), { kind: 'refused' });
  t.match(matchRoute(tb, 'G ET', '/health'), { kind: 'refused' }, 'a method that is no token');
  t.same(pathSegments('/a/b%20c?q=/../x#f'), { ok: true, segments: ['a', 'b c'] }, 'query and fragment are not part of the path');
});

t.test('compiling: every problem collected; templates that could escape are refused', async (t) => {
  const bad = (routes: object[]) => {
    const c = compileRouteTable({ kind: 'routes', routes });
    return c.ok ? [] : c.errors;
  };
  const base = { method: 'GET', namespace: 'global', permission: 'x:read' };
  t.match(bad([{ ...base, path: '/a/../b' }]), [/traversal/]);
  t.match(bad([{ ...base, path: '/a/./b' }]), [/traversal/]);
  t.match(bad([{ ...base, path: '/a/%2e%2e/b' }]), [/percent-encoding/]);
  t.match(bad([{ ...base, path: '/a\\b' }]), [/backslash/]);
  t.match(bad([{ ...base, path: '/a//b' }]), [/empty segments/]);
  t.match(bad([{ ...base, path: 'a/b' }]), [/must start with \//]);
  t.match(bad([{ ...base, path: '/a?x=1' }]), [/query/]);
  t.match(bad([{ ...base, path: '/a{x}' }]), [/whole segment/]);
  t.match(bad([{ ...base, path: '/{x}/{x}' }]), [/twice/]);
  t.match(bad([{ ...base, path: '/{1x}' }]), [/must be a name/]);
  t.match(bad([{ ...base, path: '/a', namespace: 'global.org:{org}' }]), [/not bound by the path/]);
  t.match(bad([{ ...base, path: '/{org}', namespace: 'global/{org}' }]), [/characters a namespace path never has/]);
  t.match(bad([{ ...base, path: '/{org}', namespace: 'global.{org' }]), [/unclosed/]);
  t.match(bad([{ ...base, path: '/a', permission: 'x:*' }]), [/concrete permission/]);
  t.match(bad([{ ...base, path: '/a', resource: 'document' }]), [/type:id/]);
  t.match(bad([{ ...base, path: '/a', resource: 'document:{doc}' }]), [/not bound/]);
  t.match(bad([{ ...base, path: '/a', method: 'get' }]), [/not an HTTP method/]);
  t.match(bad([{ ...base, path: '/a', extra: 1 }]), [/must NOT have additional properties/]);
  const several = bad([{ ...base, path: '/a/../b' }, { ...base, path: '/ok' }, { ...base, path: '/c', permission: '*' }]);
  t.equal(several.length, 2, 'errors of every route are collected');
  t.match(several, [/routes\[0\]/, /routes\[2\]/]);
  const c = compileRouteTable({ kind: 'policy', routes: [] });
  t.notOk(c.ok, 'kind must be routes');
  t.notOk(compileRouteTable('routes: []').ok);
  t.notOk(compileRouteTable({ kind: 'routes', routes: Array.from({ length: 1001 }, () => ({ ...base, path: '/a' })) }).ok, 'at most 1000 routes');
});
