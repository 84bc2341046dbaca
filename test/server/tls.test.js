// Optional TLS for the listener: with a key and certificate the service answers HTTPS.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createServices } from '../../src/compose.js';
import { buildApp } from '../../src/server/app.js';
const dir = mkdtempSync(join(tmpdir(), 'pe-tls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'key.pem');
const certFile = join(dir, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
t.test('configuration: both files, and they must exist', async (t) => {
    t.throws(() => loadConfig({ TLS_CERT_FILE: certFile }), /go together/);
    t.throws(() => loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: join(dir, 'missing.pem') }), /no such file/);
    const c = loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, STORE: 'none' });
    t.equal(c.tlsCertFile, certFile);
});
t.test('the listener serves HTTPS', async (t) => {
    const config = loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, STORE: 'none' });
    const services = await createServices(config, pino({ level: 'silent' }));
    const app = await buildApp({
        decisions: services.decisions, auth: { adminToken: undefined, loopbackOnly: true }, bodyLimit: config.bodyLimit,
        tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) },
    });
    t.teardown(async () => { await app.close(); await services.close(); });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    t.match(address, /^https:/);
    const body = await new Promise((resolve, reject) => {
        const req = request(`${address}/healthz`, { ca: readFileSync(certFile) }, (res) => {
            let data = '';
            res.on('data', (c) => (data += c));
            res.on('end', () => resolve(data));
        });
        req.on('error', reject);
        req.end();
    });
    t.same(JSON.parse(body), { status: 'ok' });
});
