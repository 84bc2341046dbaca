// The server's Node/V8 flags (its heap sizing) have one source, package.json's `start` script
// (bench/lib/start-flags.ts); the image's NODE_OPTIONS, the manifests and bench/rss.ts must
// start it the same way, or the memory bench/rss.ts reports is not the deployed server's.

import { spawnSync } from 'node:child_process';
import t from 'tap';
import { DockerfileParser } from 'dockerfile-ast';
import { startSettings } from '../../bench/lib/start-flags.js';
import { ROOT, loadYamlAll, read, walk, type Obj } from './fixtures/util.js';

const { env: startEnv, flags } = startSettings(ROOT);
const optionsText = flags.join(' ');
const flagValue = (name: string) => Number(flags.find((f) => f.startsWith(`--${name}=`))?.split('=')[1]);

t.test('npm start sizes the heap', async (t) => {
  t.same(startEnv, { MALLOC_ARENA_MAX: '2' }, 'glibc: two malloc arenas');
  t.ok(flagValue('max-semi-space-size') > 0, 'a young generation size');
  t.ok(flagValue('max-old-space-size') > 0, 'an old space bound');
  // Node refuses (exit 9) flags NODE_OPTIONS may not carry; the image passes them there.
  const r = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: optionsText }, encoding: 'utf8' });
  t.equal(r.status, 0, `every flag is allowed in NODE_OPTIONS ${r.stderr}`);
});

t.test('the image starts the server with the same flags', async (t) => {
  const df = DockerfileParser.parse(read('Dockerfile'));
  const envs: Record<string, string> = {};
  // The last stage's ENV: the runtime image.
  const lastFrom = df.getFROMs().at(-1)!.getRange().start.line;
  for (const i of df.getENVs()) if (i.getRange().start.line > lastFrom) for (const p of i.getProperties()) envs[p.getName()] = (p.getValue() ?? '').replace(/^"(.*)"$/, '$1');
  t.equal(envs.NODE_OPTIONS, optionsText, 'Dockerfile ENV NODE_OPTIONS = the start script\'s flags');
  for (const [k, v] of Object.entries(startEnv)) t.equal(envs[k], v, `Dockerfile ENV ${k} = the start script's`);
});

t.test('manifests do not start it differently', async (t) => {
  for (const path of [...walk('k8s', (n) => n.endsWith('.yaml')), 'docker/compose.yaml']) {
    const text = read(path);
    if (!['NODE_OPTIONS', ...Object.keys(startEnv)].some((k) => text.includes(k))) continue;
    for (const doc of loadYamlAll(path)) {
      const envLists: Obj[][] = [];
      const visit = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(visit);
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v as Obj)) (k === 'env' && Array.isArray(x) ? envLists.push(x as Obj[]) : visit(x));
      };
      visit(doc);
      for (const e of envLists.flat()) if (e.name === 'NODE_OPTIONS') t.equal(e.value, optionsText, `${path}: NODE_OPTIONS`);
      for (const e of envLists.flat()) if (e.name in startEnv) t.equal(e.value, startEnv[e.name], `${path}: ${e.name as string}`);
    }
  }
  // The old space plus what lies outside it (Node's own code, the young generation, code
  // space, native memory: ~80 MiB measured) must fit the container's limit.
  const deployment = loadYamlAll('k8s/base/deployment.yaml').find((d) => d.kind === 'Deployment')!;
  const engine = ([...deployment.spec.template.spec.initContainers ?? [], ...deployment.spec.template.spec.containers] as Obj[]).find((c) => c.name === 'policy-engine')!;
  const limit = /^(\d+)Mi$/.exec(engine.resources.limits.memory as string);
  t.ok(limit, 'the limit is in Mi');
  t.ok(Number(limit![1]) >= flagValue('max-old-space-size') + 80, `limit ${engine.resources.limits.memory} holds the old space (${flagValue('max-old-space-size')} MB) and ~80 MiB more`);
});

t.test('bench/rss.ts starts the server with them', async (t) => {
  const src = read('bench/rss.ts');
  t.match(src, /= startSettings\(\);/, 'reads startSettings()');
  t.match(src, /\.\.\.START_ENV, /, 'and passes its environment');
  t.match(src, /spawn\(process\.execPath, \[\.\.\.FLAGS, /, 'and passes them to node');
});
