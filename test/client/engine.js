// A real policy engine on a loopback port for the client tests, and ports that answer
// nothing (refused) or never answer (hang).
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { testApp } from '../helpers/app.js';
import { editorsPolicy } from '../helpers/policies.js';
export const ADMIN_TOKEN = 'client-test-admin-token-0123';
export const DOCS_POLICY = editorsPolicy({ key: 'global-docs', comment: 'who may do what with documents' });
/** testApp, listening on 127.0.0.1, with an admin token; closed at teardown. */
export async function runningEngine(t, options = {}) {
    const engine = await testApp(t, { env: { ADMIN_TOKEN }, ...options });
    const url = await engine.app.listen({ port: 0, host: '127.0.0.1' });
    return { ...engine, url };
}
/** A loopback URL where nothing listens (connections are refused). */
export async function refusedUrl() {
    const server = createNetServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
}
/** A loopback URL that accepts connections and never answers; closed at teardown. */
export async function hangingUrl(t) {
    const server = createHttpServer(() => { });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
        server.closeAllConnections();
        server.close();
    });
    const { port } = server.address();
    return `http://127.0.0.1:${port}`;
}
