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
    }
    catch (err) {
        t.ok(err instanceof ConfigError);
        const problems = err.problems.join('\n');
        for (const name of ['PORT', 'LOG_LEVEL', 'DEFAULT_PERMISSIONS', 'ADMIN_TOKEN', 'MONGO_URL', '--nope'])
            t.match(problems, name);
    }
});
t.test('loopback detection', async (t) => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1'])
        t.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com'])
        t.notOk(isLoopback(h), h);
});
