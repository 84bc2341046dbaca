// `policy-engine serve`: --help lists the settings; a real start on a free port, a
// request, and a graceful stop on SIGTERM.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT, runCli } from './run-cli.js';
t.test('--help lists every setting', async (t) => {
    const r = await runCli(['serve', '--help']);
    t.equal(r.code, 0);
    t.match(r.stdout, /Usage: policy-engine serve/);
    for (const s of ['--port <n>', 'PORT', '--store <value>', 'STORE', '--admin-token', 'ADMIN_TOKEN', '--default-permissions'])
        t.match(r.stdout, s);
});
t.test('a bad flag: exit 2 with the problem', async (t) => {
    const r = await runCli(['serve', '--port', 'eighty']);
    t.equal(r.code, 2);
    t.match(r.stderr, /--port="eighty": must be an integer/);
});
t.test('starts, answers, stops on SIGTERM', async (t) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--store', 'none', '--log-level', 'info'], {
        cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => {
        if (child.exitCode === null)
            child.kill('SIGKILL');
    });
    let out = '';
    const listening = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "Server listening" within 30 s: ${out}`)), 30_000);
        child.stdout.on('data', (d) => {
            out += String(d);
            const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
            if (m) {
                clearTimeout(timer);
                resolve(m[1]);
            }
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    const url = await listening;
    const health = await fetch(`${url}/healthz`);
    t.equal(health.status, 200, 'GET /healthz');
    const tested = await fetch(`${url}/v1/test`, {
        method: 'POST', headers: { 'content-type': 'application/yaml' },
        body: 'name: s\npolicies: []\ncases:\n  - { name: empty path, subject: u, namespace: global, expect: { default: true, permissions: ["*"] } }\n',
    });
    t.same({ status: tested.status, passed: (await tested.json()).passed }, { status: 200, passed: true }, 'POST /v1/test on the real server');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    t.equal(code, 0, 'exit 0 after SIGTERM');
    t.match(out, /shutting down/);
    t.match(out, /"msg":"stopped"/);
});
