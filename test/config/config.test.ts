import t from 'tap';
import { ConfigError, isLoopback, loadConfig } from '../../src/config/config.js';

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 8080);
  t.equal(c.host, '127.0.0.1');
  t.equal(c.store, 'file');
  t.equal(c.policyDir, './policies');
  t.same(c.defaultPermissions, ['*']);
  t.equal(c.logLevel, 'info');
  t.equal(c.defaultLanguage, 'en');
});

t.test('STORE follows MONGO_URL unless set', async (t) => {
  t.equal(loadConfig({ MONGO_URL: 'mongodb://127.0.0.1:1/x' }).store, 'mongo');
  t.equal(loadConfig({ MONGO_URL: 'mongodb://127.0.0.1:1/x', STORE: 'file' }).store, 'file');
  t.equal(loadConfig({ STORE: 'none' }).store, 'none');
  t.throws(() => loadConfig({ STORE: 'mongo' }), ConfigError);
});

t.test('flags win over the environment', async (t) => {
  const c = loadConfig({ PORT: '9000' }, ['--port', '9100', '--default-permissions=[]']);
  t.equal(c.port, 9100);
  t.same(c.defaultPermissions, []);
});

t.test('every bad value is reported at once', async (t) => {
  try {
    loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DEFAULT_PERMISSIONS: '["a::b"]', ADMIN_TOKEN: 'short', MONGO_URL: 'http://x' }, ['--nope', 'x']);
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'LOG_LEVEL', 'DEFAULT_PERMISSIONS', 'ADMIN_TOKEN', 'MONGO_URL', '--nope']) t.match(problems, name);
  }
});

t.test('loopback detection', async (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) t.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) t.notOk(isLoopback(h), h);
});

t.test('READ_TOKEN and ALLOWED_HOSTS (docs/security.md)', async (t) => {
  const admin = 'admin-token-0123456789';
  const c = loadConfig({ ADMIN_TOKEN: admin, READ_TOKEN: 'read-token-0123456789', ALLOWED_HOSTS: 'policy-engine, api.internal ,[fd00::1]' });
  t.equal(c.readToken, 'read-token-0123456789');
  t.same(c.allowedHosts, ['policy-engine', 'api.internal', '[fd00::1]']);
  t.same(loadConfig({}).allowedHosts, []);
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return '';
    } catch (err) {
      return (err as ConfigError).problems.join('\n');
    }
  };
  t.match(problems({ READ_TOKEN: 'read-token-0123456789' }), /READ_TOKEN needs ADMIN_TOKEN/, 'a read token alone would leave writes open');
  t.match(problems({ ADMIN_TOKEN: admin, READ_TOKEN: 'short' }), /READ_TOKEN must be at least 16/);
  t.match(problems({ ADMIN_TOKEN: admin, READ_TOKEN: admin }), /must differ/);
  t.match(problems({ ALLOWED_HOSTS: 'http://x.example' }), /ALLOWED_HOSTS: "http:\/\/x\.example" is not a host name/);
  t.match(problems({ ALLOWED_HOSTS: 'x.example:8080' }), /not a host name/);
  t.equal(problems({ ALLOWED_HOSTS: '*' }), '');
});

t.test('MONGO_DB names the database only when MONGO_URL names none (SPEC §7)', async (t) => {
  t.equal(loadConfig({ MONGO_URL: 'mongodb://h:1/', MONGO_DB: 'policy' }).mongoDb, 'policy', 'a URL without a database: MONGO_DB');
  t.equal(loadConfig({ MONGO_URL: 'mongodb://h:1/policy?w=majority', MONGO_DB: 'policy' }).mongoDb, 'policy', 'the same name twice is fine');
  t.equal(loadConfig({ MONGO_URL: 'mongodb://h:1/policy' }).mongoDb, undefined, 'the URL alone');
  t.throws(() => loadConfig({ MONGO_URL: 'mongodb://h:1/policy', MONGO_DB: 'other' }), /MONGO_DB="other" contradicts the database "policy" named in MONGO_URL/);
  t.throws(() => loadConfig({ MONGO_URL: 'mongodb+srv://u:p@c.example.net/my%20db', MONGO_DB: 'my_db' }), /contradicts the database "my db"/);
});
