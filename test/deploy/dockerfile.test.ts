// The Dockerfiles without a Docker engine: parsed with dockerfile-ast, linted with
// dockerfile-utils, and checked against the repository (what they copy exists and is
// not ignored, the entry point is what `npm run build` produces, the environment uses
// the settings' names and defaults).

import { join, normalize, posix } from 'node:path';
import t, { type Test } from 'tap';
import { DockerfileParser, type Dockerfile, type Instruction, type JSONInstruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { SETTING_ENVS, exists, read, settingDefault, type Obj } from './fixtures/util.js';

interface Stage { name: string | undefined; image: string; instructions: Instruction[] }

function stagesOf(df: Dockerfile): Stage[] {
  const stages: Stage[] = [];
  for (const i of df.getInstructions()) {
    if (i.getKeyword() === 'FROM') {
      const from = df.getFROMs().find((f) => f.getRange().start.line === i.getRange().start.line)!;
      stages.push({ name: from.getBuildStage() ?? undefined, image: from.getImage() ?? '', instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(i);
    }
  }
  return stages;
}

const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.getKeyword() === keyword);
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());

/** The JSON array of an exec-form instruction, or undefined for the shell form. */
function execForm(i: Instruction): string[] | undefined {
  const json = i as JSONInstruction;
  if (typeof json.getOpeningBracket !== 'function' || json.getOpeningBracket() === null) return undefined;
  return json.getJSONStrings().map((s) => s.getJSONValue());
}

/** .dockerignore patterns as regexps (the subset used: names, `*`, `**`, leading `!` unsupported). */
function ignoreMatchers(t: Test): RegExp[] {
  return read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((p) => {
    t.notOk(p.startsWith('!'), `.dockerignore: no negations (${p})`);
    const re = p.replace(/^\//, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*');
    return new RegExp(`^${re}(/.*)?$`);
  });
}

function lint(t: Test, path: string) {
  const diagnostics = validate(read(path));
  t.same(diagnostics.filter((d) => d.severity === 1).map((d) => `${d.range.start.line + 1}: ${d.message}`), [], `${path}: no lint errors`);
  t.same(diagnostics.filter((d) => d.severity === 2).map((d) => `${d.range.start.line + 1}: ${d.message}`), [], `${path}: no lint warnings`);
}

/** Checks every Dockerfile here must pass: final stage non-root, health-checked, exec form. */
function commonChecks(t: Test, path: string, final: Stage) {
  const user = of(final, 'USER').at(-1);
  t.ok(user, `${path}: final stage sets USER`);
  const [uid, gid] = (user ? args(user)[0]! : '').split(':');
  t.match(uid, /^[1-9]\d*$/, `${path}: USER is a numeric non-root uid (runAsNonRoot can check it)`);
  if (gid !== undefined) t.match(gid, /^[1-9]\d*$/, `${path}: and a non-root gid`);

  const hc = of(final, 'HEALTHCHECK')[0];
  t.ok(hc, `${path}: HEALTHCHECK`);
  const hcCmd = hc ? /CMD\s+(\[.*\])\s*$/s.exec(hc.getArgumentsContent() ?? '') : null;
  t.ok(hcCmd, `${path}: HEALTHCHECK CMD in exec form`);
  const hcArgs = JSON.parse(hcCmd?.[1] ?? '[]') as string[];
  t.equal(hcArgs[0], 'node', `${path}: health check runs node (slim images have no curl)`);
  t.match(hcArgs.join(' '), /fetch\('http:\/\/127\.0\.0\.1:/, `${path}: against loopback`);

  for (const kw of ['ENTRYPOINT', 'CMD']) {
    for (const i of of(final, kw)) t.ok(execForm(i), `${path}: ${kw} in exec form (SIGTERM reaches node)`);
  }
  t.ok(of(final, 'ENTRYPOINT').length + of(final, 'CMD').length > 0, `${path}: has an entry point`);
}

// Node 20 reached end of life in April 2026: the images run a supported LTS line, with the
// major pinned (the tag follows its security releases; a digest may be appended).
const SUPPORTED_NODE_BASE = /^node:(22|24)(\.\d+){0,2}-(bookworm-slim|alpine[.\d]*)(@sha256:[0-9a-f]{64})?$/;

t.test('the images run a supported Node LTS; the code stays installable on Node 20.19+', async (t) => {
  for (const path of ['Dockerfile', 'docker/example-api/Dockerfile']) {
    for (const s of stagesOf(DockerfileParser.parse(read(path)))) {
      t.match(s.image, SUPPORTED_NODE_BASE, `${path} ${s.name}: ${s.image}`);
      t.notMatch(s.image, /^node:(1\d|20|21|23)\b/, `${path} ${s.name}: not an end-of-life or odd (non-LTS) line`);
    }
  }
  // The test machines run Node 20.19+: engines must keep admitting it (no newer-only APIs),
  // and must admit the image's major too.
  const pkg = JSON.parse(read('package.json')) as Obj;
  t.equal(pkg.engines.node, '>=20.19', 'engines: Node 20.19 or later (tests run on 20, the image on 24)');
});

t.test('Dockerfile', async (t) => {
  const df = DockerfileParser.parse(read('Dockerfile'));
  const stages = stagesOf(df);
  lint(t, 'Dockerfile');
  t.ok(stages.length >= 2, 'multi-stage');
  for (const s of stages) {
    t.match(s.image, SUPPORTED_NODE_BASE, `${s.name}: a Node LTS base that is still supported (22 or 24; Node 20 reached end of life)`);
  }
  t.equal(new Set(stages.map((s) => s.image)).size, 1, 'build and runtime on the same base');
  const final = stages.at(-1)!;
  const build = stages.find((s) => s.name === 'build')!;
  t.ok(build, 'a build stage');
  commonChecks(t, 'Dockerfile', final);

  t.test('no ADD, no URLs', async (t) => {
    t.same(df.getInstructions().filter((i) => i.getKeyword() === 'ADD').map((i) => i.getArgumentsContent()), [], 'COPY only');
    for (const c of df.getCOPYs()) t.notOk(args(c).some((a) => /^[a-z]+:\/\//i.test(a)), `COPY ${args(c).join(' ')}: no URL`);
  });

  t.test('builds with npm ci, runs with production dependencies only', async (t) => {
    const buildRuns = of(build, 'RUN').map((i) => i.getArgumentsContent() ?? '');
    t.ok(buildRuns.some((r) => /\bnpm ci\b/.test(r)), 'build: npm ci');
    t.ok(buildRuns.some((r) => /\bnpm run build\b/.test(r)), 'build: npm run build');
    const pkg = JSON.parse(read('package.json')) as Obj;
    t.match(pkg.scripts.build, /^tsc -p tsconfig\.build\.json && node scripts\/build-ui\.mjs$/, 'the build script is tsc, then the playground bundle');
    const finalRuns = of(final, 'RUN').map((i) => i.getArgumentsContent() ?? '').join('\n');
    t.match(finalRuns, /\bnpm ci\b[^\n&]*--omit=dev/, 'runtime: npm ci --omit=dev');
    t.match(finalRuns, /\bnpm ci\b[^\n&]*--ignore-scripts/, 'runtime: no install scripts');
    t.notMatch(finalRuns, /npm (install|i) /, 'runtime: no npm install (the lock file decides)');
  });

  t.test('everything copied exists, is not ignored, or comes from the build stage', async (t) => {
    const ignored = ignoreMatchers(t);
    for (const s of stages) {
      const workdir = args(of(s, 'WORKDIR')[0]!)[0]!;
      for (const c of s.instructions.filter((i) => i.getKeyword() === 'COPY')) {
        const from = df.getCOPYs().find((x) => x.getRange().start.line === c.getRange().start.line)!.getFromFlag()?.getValue();
        const parts = args(c).filter((a) => !a.startsWith('--'));
        const sources = parts.slice(0, -1);
        if (from === undefined) {
          for (const src of sources) {
            t.ok(exists(src), `${s.name}: COPY ${src} exists in the repository`);
            t.notOk(ignored.some((re) => re.test(normalize(src))), `${s.name}: ${src} is not in .dockerignore`);
          }
        } else {
          const producer = stages.find((x) => x.name === from);
          t.ok(producer && stages.indexOf(producer) < stages.indexOf(s), `${s.name}: --from=${from} is an earlier stage`);
          // The build stage's tsc writes <WORKDIR>/<outDir of tsconfig.build.json>.
          const tsconfig = JSON.parse(read('tsconfig.build.json')) as Obj;
          const producerWorkdir = args(of(producer!, 'WORKDIR')[0]!)[0]!;
          t.same(sources, [posix.join(producerWorkdir, tsconfig.compilerOptions.outDir)], `${s.name}: copies what tsc produced`);
        }
      }
      t.ok(posix.isAbsolute(workdir), `${s.name}: absolute WORKDIR`);
    }
    // dist/ reads ../package.json at run time (its version, in the OpenAPI document and the CLI)
    const finalCopies = of(final, 'COPY').map(args);
    t.ok(finalCopies.some((a) => a.includes('package.json') && ['./', '.', args(of(final, 'WORKDIR')[0]!)[0]].includes(a.at(-1))), 'runtime: package.json beside dist/');
    // tsconfig.build.json compiles src/ only; src/main.ts becomes dist/main.js
    t.ok(exists('src/main.ts'), 'src/main.ts exists');
    t.same(execForm(of(final, 'ENTRYPOINT')[0]!), ['node', 'dist/main.js'], 'ENTRYPOINT node dist/main.js');
    const ig = read('.dockerignore');
    for (const p of ['node_modules', 'dist', '.git', '.env']) t.match(ig, new RegExp(`^${p.replace('.', '\\.')}$`, 'm'), `.dockerignore keeps out ${p}`);
  });

  t.test('environment, port and health check agree with the settings', async (t) => {
    const env: Record<string, string> = {};
    for (const i of df.getENVs()) for (const p of i.getProperties()) env[p.getName()] = p.getValue() ?? '';
    t.match(env, { NODE_ENV: 'production', HOST: '0.0.0.0', PORT: settingDefault('PORT'), POLICY_DIR: '/policies' });
    // NODE_OPTIONS, MALLOC_ARENA_MAX: how npm start runs node, checked in start-flags.test.ts
    for (const k of Object.keys(env)) if (!['NODE_ENV', 'NODE_OPTIONS', 'MALLOC_ARENA_MAX'].includes(k)) t.ok(SETTING_ENVS.has(k), `ENV ${k} is a setting`);
    const exposed = of(final, 'EXPOSE').flatMap(args);
    t.same(exposed, [settingDefault('PORT')], 'EXPOSE is the PORT default');
    const hc = of(final, 'HEALTHCHECK')[0]!.getArgumentsContent() ?? '';
    t.match(hc, /process\.env\.PORT\|\|8080/, 'health check follows PORT');
    t.equal(settingDefault('PORT'), '8080');
    t.match(hc, /\/healthz'/, 'health check asks /healthz');
  });

  t.test('read-only root: only /policies (and /tmp) are written', async (t) => {
    const uid = args(of(final, 'USER').at(-1)!)[0]!.split(':')[0];
    const runs = of(final, 'RUN').map((i) => i.getArgumentsContent() ?? '').join('\n');
    t.match(runs, /mkdir -p \/policies/, 'creates POLICY_DIR');
    t.match(runs, new RegExp(`chown ${uid}(:\\d+)? /policies`), 'owned by the runtime user');
    t.notMatch(runs, /chown -R|chmod -R/, 'nothing else made writable');
    const volumes = of(final, 'VOLUME');
    t.same(volumes, [], 'no VOLUME (it would hide a mounted ConfigMap or make an anonymous volume)');
  });
});

t.test('docker/example-api/Dockerfile', async (t) => {
  const path = 'docker/example-api/Dockerfile';
  lint(t, path);
  const df = DockerfileParser.parse(read(path));
  const final = stagesOf(df).at(-1)!;
  commonChecks(t, path, final);
  for (const c of df.getCOPYs()) {
    for (const src of args(c).slice(0, -1)) t.ok(exists(join('docker/example-api', src)), `COPY ${src} exists in its context`);
  }
  t.same(execForm(of(final, 'ENTRYPOINT')[0]!), ['node', 'server.mjs']);
});

t.test('the linter has teeth', async (t) => {
  const errors = validate('FROM node:24-bookworm-slim\nWORKDIR app\nUSER\nCOPPY a b\n').filter((d) => d.severity === 1);
  t.ok(errors.length >= 2, `a broken Dockerfile gives errors: ${errors.map((e) => e.message).join('; ')}`);
});
