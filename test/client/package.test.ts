// The package as a new user gets it: `npm pack` of the built package, unpacked into a
// fresh project's node_modules/policy-engine (its dependencies resolve from this
// repository's node_modules: no registry), then imported by name — `policy-engine`,
// `policy-engine/client`, `policy-engine/fastify`, `policy-engine/express` — with their
// types checked by tsc, and, in a child process that records every module it resolves,
// without loading the MongoDB driver, the Lua VM or the server.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../cli/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'pe-package-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const pkg = join(tmp, 'pkg');
const proj = join(tmp, 'proj');
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

const ENTRIES = {
  'policy-engine': ['PolicyEngineClient', 'PolicyEngineClientError', 'fastifyPolicyGuard', 'createExpressGuard', 'decidePermission'],
  'policy-engine/client': ['PolicyEngineClient', 'PolicyEngineClientError', 'fastifyPolicyGuard', 'createExpressGuard'],
  'policy-engine/fastify': ['fastifyPolicyGuard', 'fastifyRequirePermission'],
  'policy-engine/express': ['createExpressGuard', 'expressRequirePermission'],
} as const;

t.test('the packed package', async (t) => {
  // Build what `npm run build` ships for the package's entry points (the files they import).
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[] };
  mkdirSync(pkg);
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(ROOT, 'README.md'), join(pkg, 'README.md'));
  writeFileSync(join(tmp, 'tsconfig.json'), JSON.stringify({
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: { rootDir: join(ROOT, 'src'), outDir: join(pkg, 'dist'), noEmit: false, noEmitOnError: true, sourceMap: false, declaration: true, typeRoots: [join(ROOT, 'node_modules', '@types')] },
    include: [],
    files: ['index.ts', 'client/index.ts', 'client/fastify-guard.ts', 'client/express-guard.ts'].map((f) => join(ROOT, 'src', f)),
  }));
  run(process.execPath, [tsc, '-p', join(tmp, 'tsconfig.json')], ROOT);

  const packed = run('npm', ['pack', '--pack-destination', tmp, '--ignore-scripts', '--offline', '--json'], pkg);
  const { filename, files } = (JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
  const paths = files.map((f) => f.path);
  for (const target of Object.values(manifest.exports)) {
    for (const file of typeof target === 'string' ? [target] : Object.values(target as Record<string, string>)) {
      t.ok(paths.includes(file.replace(/^\.\//, '')), `the tarball holds ${file}`);
    }
  }

  // A fresh project with the tarball unpacked as node_modules/policy-engine.
  mkdirSync(join(proj, 'node_modules'), { recursive: true });
  run('tar', ['-xzf', join(tmp, filename), '-C', join(proj, 'node_modules')], proj);
  run('mv', [join(proj, 'node_modules', 'package'), join(proj, 'node_modules', 'policy-engine')], proj);
  for (const dep of readdirSync(join(ROOT, 'node_modules'))) {
    if (dep === 'policy-engine' || dep === '.bin' || dep.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', dep), join(proj, 'node_modules', dep));
  }
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'an-api', private: true, type: 'module' }));

  // Import each entry by name, in its own process, recording every module resolved.
  writeFileSync(join(proj, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.RESOLVED_LOG, r.url + '\\n');
  return r;
}
`);
  writeFileSync(join(proj, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  for (const [entry, names] of Object.entries(ENTRIES)) {
    const log = join(tmp, `${entry.replace(/\W/g, '_')}.log`);
    writeFileSync(log, '');
    writeFileSync(join(proj, 'use.mjs'), `import * as m from '${entry}';\nconsole.log(JSON.stringify(Object.keys(m).sort()));\n`);
    const out = execFileSync(process.execPath, ['--import', './register.mjs', 'use.mjs'], { cwd: proj, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', RESOLVED_LOG: log } });
    const exported = JSON.parse(out) as string[];
    for (const name of names) t.ok(exported.includes(name), `${entry} exports ${name}`);
    const resolved = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
    t.ok(resolved.some((u) => u.includes('/node_modules/policy-engine/dist/')), `${entry} resolves into the installed package`);
    const heavy = resolved.filter((u) => /\/node_modules\/(mongodb|wasmoon|fastify|@marcbachmann|luaparse|pino)\/|\/dist\/(server|store|engine|core)\//.test(u));
    t.same(heavy, [], `${entry} loads no MongoDB driver, Lua VM, CEL or server module`);
  }

  // The types, as a TypeScript user's project sees them (NodeNext resolution through `exports`).
  writeFileSync(join(proj, 'check.ts'), `import { PolicyEngineClient, type CheckResponse, type GuardRefusal } from 'policy-engine';
import { PolicyEngineClient as Client2 } from 'policy-engine/client';
import { fastifyPolicyGuard, type FastifyGuardOptions } from 'policy-engine/fastify';
import { createExpressGuard, type ExpressGuardOptions } from 'policy-engine/express';
const client: Client2 = new PolicyEngineClient({ baseUrl: 'http://127.0.0.1:8080' });
const answer: Promise<CheckResponse> = client.check({ subject: 'user:a', namespace: 'global', permission: 'a:b' });
const f: FastifyGuardOptions = { exposeInternals: false };
const e: ExpressGuardOptions = { subject: () => 'user:a' };
const refusal: GuardRefusal['code'] = 'PERMISSION_DENIED';
export { answer, f, e, refusal, fastifyPolicyGuard, createExpressGuard };
`);
  writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    files: ['check.ts'],
  }));
  let typeErrors = '';
  try {
    run(process.execPath, [tsc, '-p', join(proj, 'tsconfig.json')], proj);
  } catch (err) {
    typeErrors = String((err as { stdout?: string }).stdout ?? err);
  }
  t.equal(typeErrors, '', 'the entry points type-check by name');
});
