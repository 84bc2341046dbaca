import { tmpdir } from 'node:os';
// k8s/ without a cluster: every YAML parses and validates against the Kubernetes API
// schemas (vendored, strict: unknown fields are errors), the kustomizations reference
// files and resources that exist, and the manifests agree with the code (settings names
// and defaults, ports, probe paths, images, security context, resources).
// When kubectl is installed, `kubectl kustomize` renders each overlay and the result is
// validated too; without it those subtests are skipped.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';
import t from 'tap';
import * as yaml from 'js-yaml';
import { Ajv, type ValidateFunction } from 'ajv';
import { isLoopback, loadConfig } from '../../src/config/config.js';
import { loadDocument } from '../../src/core/compile/load-document.js';
import { ROOT, SETTING_ENVS, exists, fetchUrlOf, loadYamlAll, read, settingDefault, walk, type Obj } from './fixtures/util.js';

// The pod's POLICY_DIR is a mount that exists in the pod, not on this machine: the
// configuration is checked with an existing directory in its place (the start-up
// check that an explicit POLICY_DIR exists is tested in test/cli/serve.test.ts).
const inPod = (env: Record<string, string>): Record<string, string> => (env.POLICY_DIR ? { ...env, POLICY_DIR: tmpdir() } : env);

const k8sSchema = JSON.parse(read('test/deploy/schemas/kubernetes.json')) as { kinds: Record<string, string>; definitions: Obj };
const kustomizationSchema = JSON.parse(read('test/deploy/schemas/kustomization.json')) as Obj;

// ---- schemas ----

/** The same definitions without `required`: a strategic-merge patch is a partial object. */
function withoutRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRequired);
  if (node === null || typeof node !== 'object') return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'required' && Array.isArray(v)) continue;
    out[k] = k === 'properties' || k === 'definitions'
      ? Object.fromEntries(Object.entries(v as Obj).map(([n, s]) => [n, withoutRequired(s)]))
      : withoutRequired(v);
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
ajv.addSchema({ $id: 'k8s.json', definitions: k8sSchema.definitions });
ajv.addSchema({ $id: 'k8s-partial.json', definitions: withoutRequired(k8sSchema.definitions) });
const validateKustomization = ajv.compile(kustomizationSchema);

function validatorFor(doc: Obj, partial: boolean): ValidateFunction | undefined {
  const name = k8sSchema.kinds[`${doc.apiVersion}/${doc.kind}`];
  if (name === undefined) return undefined;
  return ajv.getSchema(`${partial ? 'k8s-partial.json' : 'k8s.json'}#/definitions/${name}`);
}

function schemaErrors(doc: Obj, partial: boolean): string[] {
  const v = validatorFor(doc, partial);
  if (!v) return [`no vendored schema for ${doc.apiVersion} ${doc.kind} (add it to KINDS in scripts/k8s-schemas.mjs)`];
  if (v(doc)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

// ---- the kustomization graph ----

interface Resource { file: string; doc: Obj }
interface Kustomization {
  dir: string;
  spec: Obj;
  /** resources of this kustomization and, recursively, of its bases */
  resources: Resource[];
  generatedConfigMaps: string[];
  patches: Array<{ file: string; docs: Obj[]; target: Obj | undefined }>;
  policyFiles: string[];
}

function loadKustomization(dir: string): Kustomization {
  const spec = loadYamlAll(join(dir, 'kustomization.yaml'))[0]!;
  const k: Kustomization = { dir, spec, resources: [], generatedConfigMaps: [], patches: [], policyFiles: [] };
  for (const r of (spec.resources ?? []) as string[]) {
    const path = normalize(join(dir, r));
    if (exists(join(path, 'kustomization.yaml'))) {
      const base = loadKustomization(path);
      k.resources.push(...base.resources);
      k.generatedConfigMaps.push(...base.generatedConfigMaps);
    } else {
      for (const doc of loadYamlAll(path)) k.resources.push({ file: path, doc });
    }
  }
  for (const g of (spec.configMapGenerator ?? []) as Obj[]) {
    k.generatedConfigMaps.push(g.name as string);
    k.policyFiles.push(...((g.files ?? []) as string[]).map((f) => normalize(join(dir, f.includes('=') ? f.slice(f.indexOf('=') + 1) : f))));
  }
  for (const p of (spec.patches ?? []) as Obj[]) {
    if (typeof p.path === 'string') {
      const file = normalize(join(dir, p.path));
      k.patches.push({ file, docs: exists(file) ? loadYamlAll(file) : [], target: p.target });
    }
  }
  return k;
}

const kustomizationDirs = walk('k8s', (n) => n === 'kustomization.yaml').map(dirname);
const overlays = kustomizationDirs.filter((d) => d.startsWith('k8s/overlays/'));
const kustomizations = new Map(kustomizationDirs.map((d) => [d, loadKustomization(d)]));
const allPatchFiles = new Set([...kustomizations.values()].flatMap((k) => k.patches.map((p) => p.file)));
const allPolicyFiles = new Set([...kustomizations.values()].flatMap((k) => k.policyFiles));

// ---- pod helpers ----

const podSpecOf = (deployment: Obj): Obj => deployment.spec.template.spec;
const containersOf = (pod: Obj): Obj[] => [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
const containerNamed = (pod: Obj, name: string): Obj | undefined => containersOf(pod).find((c) => c.name === name);

/** env as name → value; secretKeyRef entries get a plausible stand-in so the config can load. */
function envMap(env: Obj[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    if (typeof e.value === 'string') out[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) out[e.name] = e.name === 'MONGO_URL' ? 'mongodb://db.example:27017/policy?replicaSet=rs0' : 'x'.repeat(32);
  }
  return out;
}

/** A strategic merge of the sidecar's env and mounts, as kustomize does it (merge keys: name, mountPath). */
function mergedSidecar(base: Obj, patch: Obj | undefined): Obj {
  if (!patch) return base;
  const byKey = (list: Obj[] | undefined, key: string, extra: Obj[] | undefined) => {
    const m = new Map<string, Obj>((list ?? []).map((x) => [x[key], x]));
    for (const x of extra ?? []) m.set(x[key], { ...m.get(x[key]), ...x });
    return [...m.values()];
  };
  return { ...base, env: byKey(base.env, 'name', patch.env), volumeMounts: byKey(base.volumeMounts, 'mountPath', patch.volumeMounts) };
}

const SIDECAR = 'policy-engine';
const base = kustomizations.get('k8s/base')!;
const baseDeployment = base.resources.find((r) => r.doc.kind === 'Deployment')!.doc;
const compose = loadYamlAll('docker/compose.yaml')[0]!;

// ---- tests ----

t.test('schemas were generated from the pinned Kubernetes version', async (t) => {
  t.match(k8sSchema, { kubernetesVersion: /^v1\.\d+\.\d+$/ });
  t.ok(Object.keys(k8sSchema.kinds).length >= 4);
});

t.test('every YAML under k8s/ parses and validates', async (t) => {
  const files = walk('k8s', (n) => /\.ya?ml$/.test(n));
  t.ok(files.length >= 8, `${files.length} YAML files`);
  for (const file of files) {
    let docs: Obj[] = [];
    t.doesNotThrow(() => { docs = loadYamlAll(file); }, `${file} parses`);
    t.ok(docs.length > 0, `${file} has a document`);
    for (const doc of docs) {
      if (basename(file) === 'kustomization.yaml') {
        t.ok(validateKustomization(doc), `${file}: Kustomization ${JSON.stringify(validateKustomization.errors ?? [])}`);
      } else if (allPolicyFiles.has(file)) {
        const r = loadDocument(readFileSync(join(ROOT, file), 'utf8'), 'yaml');
        t.ok(r.ok, `${file} is a valid policy document ${r.ok ? '' : JSON.stringify(r.errors)}`);
      } else {
        const partial = allPatchFiles.has(file);
        t.same(schemaErrors(doc, partial), [], `${file}: ${doc.kind} ${doc.metadata?.name}${partial ? ' (patch)' : ''} matches the schema`);
        t.type(doc.metadata?.name, 'string', `${file}: named`);
      }
    }
  }
});

t.test('the schema check has teeth', async (t) => {
  const bad = structuredClone(baseDeployment);
  podSpecOf(bad).containers[0].imagePullPolicey = 'Always'; // misspelt
  podSpecOf(bad).containers[0].ports[0].containerPort = '3000'; // a string
  const errors = schemaErrors(bad, false);
  t.ok(errors.some((e) => e.includes('imagePullPolicey')), 'unknown field found');
  t.ok(errors.some((e) => e.includes('containerPort')), 'wrong type found');
  t.not(schemaErrors({ ...bad, spec: { template: bad.spec.template } }, false).length, 0, 'missing selector found');
});

t.test('kustomizations reference files and resources that exist', async (t) => {
  t.same(kustomizationDirs.sort(), ['k8s/base', 'k8s/overlays/file', 'k8s/overlays/mongo']);
  for (const [dir, k] of kustomizations) {
    for (const r of (k.spec.resources ?? []) as string[]) {
      const path = normalize(join(dir, r));
      t.ok(exists(path), `${dir}: resource ${r} exists`);
      t.notOk(path.startsWith('..'), `${dir}: ${r} stays in the repository`);
    }
    for (const f of k.policyFiles) {
      t.ok(exists(f), `${dir}: configMapGenerator file ${f} exists`);
      // kustomize's default load restriction: generator files under the kustomization root
      t.ok(f.startsWith(dir + '/'), `${dir}: ${f} is inside the kustomization root`);
    }
    for (const p of k.patches) {
      t.ok(exists(p.file), `${dir}: patch ${p.file} exists`);
      for (const doc of p.docs) {
        const match = k.resources.filter((r) => r.doc.kind === doc.kind && r.doc.metadata?.name === doc.metadata?.name);
        t.equal(match.length, 1, `${p.file}: patches an existing ${doc.kind} ${doc.metadata?.name}`);
        if (p.target) t.match(doc, { kind: p.target.kind, metadata: { name: p.target.name } }, `${p.file}: agrees with its target`);
        // every container a patch names exists in the patched resource
        for (const c of containersOf(podSpecOf(doc))) {
          t.ok(containerNamed(podSpecOf(match[0]!.doc), c.name), `${p.file}: container ${c.name} exists`);
        }
        // every volume a patch mounts is defined (by the patch or the base)
        const volumes = new Set([...(podSpecOf(doc).volumes ?? []), ...(podSpecOf(match[0]!.doc).volumes ?? [])].map((v: Obj) => v.name));
        for (const c of containersOf(podSpecOf(doc))) {
          for (const m of c.volumeMounts ?? []) t.ok(volumes.has(m.name), `${p.file}: volume ${m.name} is defined`);
        }
        // a ConfigMap volume names a generated ConfigMap
        for (const v of podSpecOf(doc).volumes ?? []) {
          if (v.configMap) t.ok(k.generatedConfigMaps.includes(v.configMap.name), `${p.file}: ConfigMap ${v.configMap.name} is generated`);
        }
      }
    }
  }
});

t.test('the ConfigMap policies are the examples, and valid', async (t) => {
  const file = kustomizations.get('k8s/overlays/file')!;
  const examples = walk('examples/policies', (n) => n.endsWith('.yaml')).map((f) => basename(f));
  t.same(file.policyFiles.map((f) => basename(f)).sort(), examples.sort(), 'every example policy is in the ConfigMap');
  for (const f of file.policyFiles) t.equal(read(f), read(join('examples/policies', basename(f))), `${f} is a copy of examples/policies/${basename(f)}`);
});

t.test('the sidecar agrees with the code', async (t) => {
  const pod = podSpecOf(baseDeployment);
  const sidecar = containerNamed(pod, SIDECAR)!;
  t.ok(sidecar, 'a policy-engine container');
  t.equal(sidecar.restartPolicy, 'Always', 'a native sidecar (init container that keeps running)');
  const env = envMap(sidecar.env);
  for (const k of Object.keys(env)) t.ok(SETTING_ENVS.has(k), `base: ${k} is a setting`);
  t.ok(isLoopback(env.HOST ?? settingDefault('HOST')!), 'bound to loopback');
  const port = Number(env.PORT ?? settingDefault('PORT'));
  t.equal(port, Number(settingDefault('PORT')), 'PORT is the default port');
  t.same(sidecar.ports.map((p: Obj) => p.containerPort), [port], 'containerPort == PORT');

  for (const [probe, path] of [['startupProbe', '/healthz'], ['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
    const p = sidecar[probe] as Obj;
    t.ok(p?.exec?.command, `${probe}: exec (httpGet cannot reach a loopback listener)`);
    const url = fetchUrlOf(p.exec.command);
    t.equal(url?.hostname, '127.0.0.1', `${probe}: loopback`);
    t.equal(Number(url?.port), port, `${probe}: the service port`);
    t.equal(url?.pathname, path, `${probe}: ${path}`);
    t.equal(p.exec.command[0], 'node', `${probe}: node is in the image (no curl)`);
  }
  t.ok(pod.terminationGracePeriodSeconds * 1000 > Number(settingDefault('SHUTDOWN_TIMEOUT_MS')), 'grace period outlasts SHUTDOWN_TIMEOUT_MS');

  const api = containerNamed(pod, 'example-api')!;
  const apiUrl = new URL(envMap(api.env).POLICY_ENGINE_URL!);
  t.equal(apiUrl.hostname, '127.0.0.1', 'the API asks the sidecar on loopback');
  t.equal(Number(apiUrl.port), port, 'on the sidecar port');
  for (const probe of ['livenessProbe', 'readinessProbe']) {
    const portName = api[probe].httpGet.port;
    t.ok(api.ports.some((p: Obj) => p.name === portName), `example-api ${probe} names a container port`);
  }
});

t.test('each overlay configures a store the service accepts', async (t) => {
  const sidecarBase = containerNamed(podSpecOf(baseDeployment), SIDECAR)!;
  const expected: Record<string, string> = { 'k8s/overlays/file': 'file', 'k8s/overlays/mongo': 'mongo' };
  t.same(overlays.sort(), Object.keys(expected));
  for (const dir of overlays) {
    const k = kustomizations.get(dir)!;
    const patch = k.patches.flatMap((p) => p.docs).find((d) => d.kind === 'Deployment');
    const sidecar = mergedSidecar(sidecarBase, patch && containerNamed(podSpecOf(patch), SIDECAR));
    for (const e of sidecar.env as Obj[]) t.ok(SETTING_ENVS.has(e.name), `${dir}: ${e.name} is a setting`);
    const env = envMap(sidecar.env);
    let config;
    t.doesNotThrow(() => { config = loadConfig(inPod(env)); }, `${dir}: loadConfig accepts the env`);
    t.equal(config!.store, expected[dir], `${dir}: STORE=${expected[dir]}`);
    t.same(config!.defaultPermissions, [], `${dir}: fails closed (DEFAULT_PERMISSIONS=[])`);
    const volumes = [...(podSpecOf(baseDeployment).volumes ?? []), ...(patch ? podSpecOf(patch).volumes ?? [] : [])];
    if (expected[dir] === 'file') {
      const mount = (sidecar.volumeMounts as Obj[]).find((m) => m.mountPath === env.POLICY_DIR);
      t.ok(mount?.readOnly, `${dir}: POLICY_DIR is a read-only mount`);
      t.ok(volumes.find((v) => v.name === mount?.name)?.configMap, `${dir}: of the ConfigMap`);
    } else {
      t.notOk(volumes.some((v) => v.configMap), `${dir}: no ConfigMap volume`);
      for (const name of ['MONGO_URL', 'ADMIN_TOKEN']) {
        t.ok((sidecar.env as Obj[]).find((e) => e.name === name)?.valueFrom?.secretKeyRef, `${dir}: ${name} from a Secret`);
      }
      const api = containerNamed(podSpecOf(baseDeployment), 'example-api')!;
      t.notOk((api.env as Obj[]).some((e) => e.name === 'ADMIN_TOKEN'), `${dir}: the API container does not get the token`);
    }
  }
});

t.test('security context, resources and /tmp on every container', async (t) => {
  const pod = podSpecOf(baseDeployment);
  t.equal(pod.securityContext.runAsNonRoot, true, 'pod: runAsNonRoot');
  t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', 'pod: seccomp RuntimeDefault');
  t.equal(pod.automountServiceAccountToken, false, 'no service account token');
  const tmp = (pod.volumes as Obj[]).find((v) => v.emptyDir && v.name === 'tmp');
  t.ok(tmp, 'an emptyDir for /tmp');
  for (const c of containersOf(pod)) {
    const sc = c.securityContext as Obj;
    t.equal(sc.runAsNonRoot, true, `${c.name}: runAsNonRoot`);
    t.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0, `${c.name}: numeric non-root runAsUser`);
    t.equal(sc.allowPrivilegeEscalation, false, `${c.name}: allowPrivilegeEscalation false`);
    t.equal(sc.readOnlyRootFilesystem, true, `${c.name}: readOnlyRootFilesystem`);
    t.same(sc.capabilities?.drop, ['ALL'], `${c.name}: drops ALL capabilities`);
    t.notOk(sc.capabilities?.add, `${c.name}: adds none`);
    t.equal(sc.seccompProfile?.type, 'RuntimeDefault', `${c.name}: seccomp RuntimeDefault`);
    for (const kind of ['requests', 'limits']) {
      for (const r of ['cpu', 'memory']) t.ok(c.resources?.[kind]?.[r], `${c.name}: ${kind}.${r}`);
    }
    t.ok((c.volumeMounts as Obj[]).some((m) => m.name === 'tmp' && m.mountPath === '/tmp'), `${c.name}: /tmp is writable`);
  }
});

t.test('Service and PodDisruptionBudget select the pods', async (t) => {
  const labels = baseDeployment.spec.template.metadata.labels as Obj;
  t.match(labels, baseDeployment.spec.selector.matchLabels, 'the Deployment selects its own pods');
  const service = base.resources.find((r) => r.doc.kind === 'Service')!.doc;
  const pdb = base.resources.find((r) => r.doc.kind === 'PodDisruptionBudget')!.doc;
  t.match(labels, service.spec.selector, 'Service selector matches');
  t.match(labels, pdb.spec.selector.matchLabels, 'PDB selector matches');
  t.ok(pdb.spec.minAvailable < baseDeployment.spec.replicas, 'the PDB leaves room to drain a node');
  const ports = containersOf(podSpecOf(baseDeployment)).flatMap((c) => c.ports ?? []);
  for (const p of service.spec.ports as Obj[]) {
    t.ok(ports.some((c: Obj) => c.name === p.targetPort || c.containerPort === p.targetPort), `Service port ${p.name} targets a container port`);
  }
  t.notOk(service.spec.ports.some((p: Obj) => p.targetPort === 'policy' || p.targetPort === 8080), 'the sidecar port is not exposed');
});

t.test('images match docker/compose.yaml', async (t) => {
  const pod = podSpecOf(baseDeployment);
  t.equal(containerNamed(pod, SIDECAR)!.image, compose.services['policy-engine'].image, 'policy-engine image');
  t.equal(containerNamed(pod, 'example-api')!.image, compose.services['example-api'].image, 'example-api image');
  for (const c of containersOf(pod)) {
    t.match(c.image, /^[a-z0-9./-]+:[\w.-]+$/, `${c.name}: image ${c.image} has a tag`);
    t.notOk(c.image.endsWith(':latest'), `${c.name}: not :latest`);
  }
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
t.test('kubectl kustomize renders valid manifests', { skip: kubectl ? false : 'kubectl is not installed' }, async (t) => {
  for (const dir of overlays) {
    const r = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
    t.equal(r.status, 0, `${dir} renders ${r.stderr}`);
    const docs = yaml.loadAll(r.stdout) as Obj[];
    t.same(docs.map((d) => d.kind).sort(), dir.endsWith('file') ? ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service'] : ['Deployment', 'PodDisruptionBudget', 'Service'], `${dir}: kinds`);
    for (const doc of docs) t.same(schemaErrors(doc, false), [], `${dir}: rendered ${doc.kind} matches the schema`);
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const sidecar = containerNamed(podSpecOf(deployment), SIDECAR)!;
    const names = (sidecar.env as Obj[]).map((e) => e.name);
    t.equal(new Set(names).size, names.length, `${dir}: no env name twice`);
    t.equal(loadConfig(inPod(envMap(sidecar.env))).store, dir.endsWith('file') ? 'file' : 'mongo', `${dir}: rendered store`);
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    if (cm) {
      const volume = (podSpecOf(deployment).volumes as Obj[]).find((v) => v.configMap);
      t.equal(volume?.configMap.name, cm.metadata.name, `${dir}: the volume names the hashed ConfigMap`);
    }
  }
});
