// One request shape for tests, served either by inject() or by real HTTP on a loopback
// port, so the same API suite runs both ways.
export function injectSender(app) {
    return async (req) => {
        const r = await app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload });
        const headers = {};
        for (const [k, v] of Object.entries(r.headers))
            if (v !== undefined)
                headers[k] = String(v);
        return { status: r.statusCode, headers, body: r.body, json: () => JSON.parse(r.body) };
    };
}
/** Listen on a free loopback port and send real HTTP requests with fetch. */
export async function httpSender(app) {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return async (req) => {
        const headers = { ...(req.headers ?? {}) };
        let body;
        if (typeof req.payload === 'object') {
            body = JSON.stringify(req.payload);
            headers['content-type'] ??= 'application/json';
        }
        else
            body = req.payload;
        const r = await fetch(address + req.url, { method: req.method, headers, body });
        const text = await r.text();
        const out = {};
        r.headers.forEach((v, k) => { out[k] = v; });
        return { status: r.status, headers: out, body: text, json: () => JSON.parse(text) };
    };
}
