// JWT settings (docs/jwt.md): off without a JWKS; with one, an issuer and an audience are
// required, only asymmetric algorithms are accepted, one JWKS source, https (or loopback).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createJwtSubjects } from '../../src/engine/tokens/jwt-subjects.js';

const dir = mkdtempSync(join(tmpdir(), 'pe-jwt-cfg-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'jwks.json');
writeFileSync(file, '{"keys":[]}');
const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig({ STORE: 'none', ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

t.test('off by default; the defaults', async (t) => {
  const c = loadConfig({ STORE: 'none' });
  t.equal(createJwtSubjects(c), undefined);
  t.same([c.jwtAlgorithms, c.jwtSubjectPrefix, c.jwtRolesClaim, c.jwtHeader, c.jwtRequired, c.jwtClockSkewMs], [['RS256', 'PS256', 'ES256', 'EdDSA'], 'user:', 'roles', 'authorization', false, 30000]);
});

t.test('on with a file, an issuer and an audience', async (t) => {
  const c = loadConfig({ STORE: 'none', JWT_JWKS_FILE: file, JWT_ISSUER: 'https://idp', JWT_AUDIENCE: 'a,b' });
  t.ok(createJwtSubjects(c));
  t.same(c.jwtAudience, ['a', 'b']);
});

t.test('refused settings, each named', async (t) => {
  t.match(problems({ JWT_JWKS_FILE: file }).join('\n'), /JWT_ISSUER[\s\S]*JWT_AUDIENCE/);
  t.match(problems({ JWT_ALGORITHMS: 'RS256,HS256' }).join('\n'), /"HS256" is not accepted/);
  t.match(problems({ JWT_ALGORITHMS: 'none' }).join('\n'), /"none" is not accepted/);
  t.match(problems({ JWT_JWKS_FILE: file, JWT_JWKS_URL: 'https://idp/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }).join('\n'), /set one, not both/);
  t.match(problems({ JWT_JWKS_URL: 'http://idp.example.com/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }).join('\n'), /https/);
  t.same(problems({ JWT_JWKS_URL: 'http://127.0.0.1:9/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }), [], 'plain http on loopback');
  t.match(problems({ JWT_JWKS_FILE: join(dir, 'missing.json'), JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }).join('\n'), /no such file/);
  t.match(problems({ JWT_JWKS_FILE: file, JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_HEADER: 'bad header' }).join('\n'), /JWT_HEADER/);
});
