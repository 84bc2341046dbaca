// An example API that asks the policy-engine sidecar before answering. No dependencies.
// GET /documents/:id → 200, or 403 with the sidecar's reason. Who is asking comes from
// headers here (x-user-id, x-user-roles, x-user-groups, x-org-id: comma lists); a real
// API takes them from a verified token. Fails closed: no answer from the sidecar, no data.
import { createServer } from 'node:http';

const SIDECAR = process.env.POLICY_ENGINE_URL ?? 'http://127.0.0.1:8080';
// The sidecar's DECISION_TOKEN: needed when it listens beyond loopback (compose), not on a pod's loopback.
const TOKEN = process.env.POLICY_ENGINE_DECISION_TOKEN;
const list = (v) => (v ? String(v).split(',').map((s) => s.trim()).filter(Boolean) : []);
const send = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function check(req, permission, id) {
  const r = await fetch(`${SIDECAR}/v1/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(TOKEN ? { authorization: `Bearer ${TOKEN}` } : {}) },
    body: JSON.stringify({
      subject: { id: `user:${req.headers['x-user-id'] ?? 'anonymous'}`, roles: list(req.headers['x-user-roles']), groups: list(req.headers['x-user-groups']) },
      namespace: `global.org.org:${req.headers['x-org-id'] ?? 'none'}`,
      resource: { type: 'document', id },
      permission,
    }),
    signal: AbortSignal.timeout(2000),
  });
  if (!r.ok) throw new Error(`policy-engine answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
  return r.json();
}

const server = createServer(async (req, res) => {
  const m = /^\/documents\/([A-Za-z0-9_-]{1,64})$/.exec(req.url ?? '');
  if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method !== 'GET' || !m) return send(res, 404, { error: 'not found' });
  try {
    const d = await check(req, 'document:read', m[1]);
    if (!d.allowed) return send(res, 403, { error: 'forbidden', reason: d.reason?.text ?? 'no policy grants document:read' });
    send(res, 200, { id: m[1], title: `Document ${m[1]}` });
  } catch (err) {
    console.error(err.message);
    send(res, 503, { error: 'authorization unavailable' });
  }
});
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '0.0.0.0', () => {
  console.log(`example-api listening on port ${server.address().port}, sidecar ${SIDECAR}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
