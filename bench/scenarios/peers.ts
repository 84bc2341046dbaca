// Scenario 3: peers with the same decisions. First every peer answers the shared
// requests (56 (subject, permission) pairs on the realistic path, and the full 8 × 40
// cross product) and is compared with our engine; then the in-process peers are timed
// beside our engine, and the HTTP peers are loaded with the same autocannon settings as
// scenario 2 (the 56 requests in rotation), with the CPU each server used.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildPlan, evaluatePlan } from '../../src/core/evaluate/plan.js';
import { checkPermission } from '../../src/core/evaluate/check.js';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createServices } from '../../src/compose.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { freePort, postJson, ROOT, startChild, startNodeServer, type Child } from '../lib/child.js';
import { loadProblems, runLoad, type LoadRequest, type LoadResult } from '../lib/load.js';
import { micro, type MicroResult } from '../lib/micro.js';
import type { ScenarioContext, ScenarioReport, Table } from '../lib/report.js';
import { REALISTIC_NAMESPACES, REALISTIC_PATH, realisticDocs, realisticPolicies, recordOf } from '../lib/sets.js';
import { int, median, ms, ns, round } from '../lib/util.js';
import { loadSettings } from './http.js';
import {
  ACTIONS, EDGE_NAMESPACES, EDGE_PERMISSIONS, EDGE_SUBJECTS, RESOURCES, SUBJECTS, edgePolicies, edgeRequests, ourAnswers, oracle, peerRequests, toSubject,
  type PeerRequest,
} from '../peers/model.js';
import { casbinDecide, casbinEnforcer } from '../peers/casbin.js';
import { OPA_PATH, OPA_VERSION, opaAllowed, opaInput, writeOpaBundle } from '../peers/opa.js';
import { CERBOS_PATH, CERBOS_VERSION, cerbosAllowed, cerbosBody, writeCerbosConfig, type CerbosSet, type CerbosVariant } from '../peers/cerbos.js';
import { CERBOS_BIN, OPA_BIN, PEERS_DIR, ensureCerbos, ensureOpa } from '../peers/build.js';

type Answer = boolean | undefined;

interface Agreement {
  peer: string;
  status: string;
  ran: boolean;
  /** answers to the 56 shared requests, to the full cross product, to the edge cases */
  shared?: Answer[];
  all?: Answer[];
  edge?: Answer[];
  note?: string;
}

function allRequests(): PeerRequest[] {
  const out: PeerRequest[] = [];
  for (const s of SUBJECTS) for (const r of RESOURCES) for (const a of ACTIONS) out.push({ subject: s, path: REALISTIC_PATH, namespaces: REALISTIC_NAMESPACES, permission: `${r}:${a}` });
  return out;
}

function describe(r: PeerRequest): string {
  return `${r.subject.id}${r.subject.roles.length ? ` (roles ${r.subject.roles.join(', ')})` : ' (no roles)'} ${r.permission}`;
}

export async function peerVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  try {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'casbin', 'package.json'), 'utf8')) as { version: string };
    out['node-casbin'] = pkg.version;
  } catch {
    out['node-casbin'] = 'not installed';
  }
  try {
    out.OPA = execFileSync(OPA_BIN, ['version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^Version:\s*/, '');
  } catch {
    out.OPA = `${OPA_VERSION} (not built)`;
  }
  try {
    execFileSync(CERBOS_BIN, ['--version'], { encoding: 'utf8' });
    out.Cerbos = `${CERBOS_VERSION} (built from the Go module proxy source; the binary reports no version)`;
  } catch {
    out.Cerbos = `${CERBOS_VERSION} (not built)`;
  }
  out.autocannon = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')).version;
  out.mitata = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'mitata', 'package.json'), 'utf8')).version;
  return out;
}

async function startOpa(bin: string, withEdge = false): Promise<Child> {
  const port = await freePort();
  const b = writeOpaBundle(path.join(PEERS_DIR, 'work', 'opa'), [...realisticPolicies(), ...(withEdge ? edgePolicies() : [])]);
  return startChild(bin, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '--disable-telemetry', b.rego, b.data], { port, label: 'opa', timeoutMs: 60_000 });
}

async function startCerbos(bin: string, withEdge = false): Promise<Child> {
  const port = await freePort();
  const grpc = await freePort();
  const sets: CerbosSet[] = [{ policies: realisticPolicies(), namespaces: REALISTIC_NAMESPACES, actions: RESOURCES.flatMap((r) => ACTIONS.map((a) => `${r}:${a}`)), native: true }];
  if (withEdge) sets.push({ policies: edgePolicies(), namespaces: EDGE_NAMESPACES, actions: EDGE_PERMISSIONS, native: false });
  const c = writeCerbosConfig(path.join(PEERS_DIR, 'work', 'cerbos'), sets, port, grpc);
  return startChild(bin, ['server', `--config=${c.conf}`, '--log-level=error'], { port, env: { CERBOS_NO_TELEMETRY: '1' }, label: 'cerbos', timeoutMs: 90_000 });
}

function ourCheckBody(r: PeerRequest, nonceGroups?: string[]): string {
  const groups = [...(r.subject.groups ?? []), ...(nonceGroups ?? [])];
  return JSON.stringify({ subject: { id: r.subject.id, roles: r.subject.roles, ...(groups.length ? { groups } : {}) }, namespace: r.path, permission: r.permission });
}

async function askAll(reqs: readonly PeerRequest[], ask: (r: PeerRequest) => Promise<Answer>): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const r of reqs) out.push(await ask(r));
  return out;
}

export async function peersScenario(ctx: ScenarioContext): Promise<Omit<ScenarioReport, 'loadavgBefore' | 'busyBefore' | 'startedAt' | 'durationSec'>> {
  const notes: string[] = [];
  const data: Record<string, unknown> = {};
  const policies = realisticPolicies();
  const shared = peerRequests();
  const all = allRequests();
  const oursShared = ourAnswers(shared, policies);
  const oursAll = ourAnswers(all, policies);
  const expected = oursShared.map((a) => a.allowed);
  const expectedAll = oursAll.map((a) => a.allowed);
  const edgePol = edgePolicies();
  const edge = edgeRequests();
  const oursEdge = ourAnswers(edge, edgePol);
  const expectedEdge = oursEdge.map((a) => a.allowed);
  const allows = expected.filter(Boolean).length;
  ctx.log(`peers: ${shared.length} shared requests (${allows} allowed, ${shared.length - allows} denied by our engine), ${all.length} in the full cross product, ${edge.length} edge cases`);

  // Our own consistency: the permission lists against the exact check, and an oracle
  // written from the SPEC's wording.
  // (lists must equal the check when `exact`, and may only err towards deny otherwise)
  const listIssues = [...all.map((r, i) => ({ r, a: oursAll[i]! })), ...edge.map((r, i) => ({ r, a: oursEdge[i]! }))]
    .filter(({ a }) => a.byLists !== a.allowed && (a.exact || a.byLists));
  if (listIssues.length) notes.push(`**Engine inconsistency:** the permission lists disagree with /v1/check on ${listIssues.length} requests, e.g. ${listIssues.slice(0, 3).map((x) => describe(x.r)).join('; ')}.`);
  else notes.push(`Our permission / denied lists agree with \`/v1/check\` on every request checked (${all.length + edge.length}; where \`exact\` is false, ${oursEdge.filter((a) => !a.exact).length} edge cases, they never allow what check refuses).`);
  const agreements: Agreement[] = [];
  agreements.push({ peer: 'oracle (SPEC §2 wording, bench/peers/model.ts)', status: 'in process', ran: true, shared: shared.map((r) => oracle(policies, r)), all: all.map((r) => oracle(policies, r)), edge: edge.map((r) => oracle(edgePol, r)) });

  // Our server over HTTP (POST /v1/check).
  {
    const server = await startNodeServer({ mode: 'app', withEdge: true }, 'ours (agreement)');
    try {
      const ask = async (r: PeerRequest) => {
        const res = await postJson(server.port, '/v1/check', ourCheckBody(r));
        return res.status === 200 ? res.json.allowed === true : undefined;
      };
      agreements.push({ peer: 'policy-engine over HTTP (POST /v1/check)', status: 'ran', ran: true, shared: await askAll(shared, ask), all: await askAll(all, ask), edge: await askAll(edge, ask) });
    } finally {
      await server.stop();
    }
  }

  // node-casbin
  let casbin: Awaited<ReturnType<typeof casbinEnforcer>> | undefined;
  try {
    casbin = await casbinEnforcer([{ policies, path: REALISTIC_PATH, subjects: SUBJECTS }]);
    const c = casbin;
    const e = await casbinEnforcer([{ policies: edgePol, path: EDGE_NAMESPACES.join('.'), subjects: EDGE_SUBJECTS }]);
    agreements.push({
      peer: 'node-casbin (enforceSync, RBAC with domains, priority effect)', status: `in process, ${c.lines} policy lines`, ran: true,
      shared: shared.map((r) => casbinDecide(c.enforcer, r)), all: all.map((r) => casbinDecide(c.enforcer, r)), edge: edge.map((r) => casbinDecide(e.enforcer, r)),
    });
  } catch (err) {
    agreements.push({ peer: 'node-casbin', status: `failed: ${(err as Error).message}`, ran: false });
  }

  // OPA
  const opaBin = await ensureOpa(ctx.log);
  if (opaBin.ok) {
    try {
      const opa = await startOpa(opaBin.bin!, true);
      try {
        const ask = async (r: PeerRequest) => {
          const res = await postJson(opa.port, OPA_PATH, opaInput(r));
          return res.status === 200 ? opaAllowed(res.json) : undefined;
        };
        agreements.push({ peer: 'OPA (Rego, HTTP)', status: opaBin.status, ran: true, shared: await askAll(shared, ask), all: await askAll(all, ask), edge: await askAll(edge, ask) });
      } finally {
        await opa.stop();
      }
    } catch (err) {
      agreements.push({ peer: 'OPA (Rego, HTTP)', status: `${opaBin.status}; could not run: ${(err as Error).message.split('\n')[0]}`, ran: false });
    }
  } else agreements.push({ peer: 'OPA (Rego, HTTP)', status: opaBin.status, ran: false });

  // Cerbos, both translations from one server
  const cerbosBin = await ensureCerbos(ctx.log);
  const cerbosLabel: Record<CerbosVariant, string> = {
    exact: 'Cerbos, exact (our order compiled into CEL conditions)',
    native: 'Cerbos, native (scopes per namespace, revoke as DENY)',
  };
  if (cerbosBin.ok) {
    try {
      const cerbos = await startCerbos(cerbosBin.bin!, true);
      try {
        for (const v of ['exact', 'native'] as const) {
          const ask = async (r: PeerRequest) => {
            const res = await postJson(cerbos.port, CERBOS_PATH, cerbosBody(r, v));
            return res.status === 200 ? cerbosAllowed(res.json, r.permission) : undefined;
          };
          agreements.push({
            peer: cerbosLabel[v], status: cerbosBin.status, ran: true, shared: await askAll(shared, ask), all: await askAll(all, ask),
            // the native translation covers the realistic path only
            ...(v === 'exact' ? { edge: await askAll(edge, ask) } : {}),
          });
        }
      } finally {
        await cerbos.stop();
      }
    } catch (err) {
      for (const v of ['exact', 'native'] as const) agreements.push({ peer: cerbosLabel[v], status: `${cerbosBin.status}; could not run: ${(err as Error).message.split('\n')[0]}`, ran: false });
    }
  } else for (const v of ['exact', 'native'] as const) agreements.push({ peer: cerbosLabel[v], status: cerbosBin.status, ran: false });

  const agreeRows: string[][] = [];
  const agreeData: unknown[] = [];
  const disagreeing = new Set<string>();
  for (const a of agreements) {
    if (!a.ran) {
      agreeRows.push([a.peer, a.status, '—', '—', '—', 'not run']);
      agreeData.push({ peer: a.peer, status: a.status, ran: false });
      ctx.log(`peers: ${a.peer}: NOT RUN: ${a.status}`);
      continue;
    }
    const diffShared = shared.map((r, i) => ({ r, ours: expected[i], peer: a.shared![i] })).filter((d) => d.ours !== d.peer);
    const diffAll = all.map((r, i) => ({ r, ours: expectedAll[i], peer: a.all![i] })).filter((d) => d.ours !== d.peer);
    const diffEdge = a.edge ? edge.map((r, i) => ({ r, ours: expectedEdge[i], peer: a.edge![i] })).filter((d) => d.ours !== d.peer) : [];
    if (diffShared.length || diffAll.length || diffEdge.length) disagreeing.add(a.peer);
    const examples = [...diffAll, ...diffEdge].slice(0, 4).map((d) => `${describe(d.r)}: ours ${d.ours ? 'allow' : 'deny'}, peer ${d.peer === undefined ? 'error' : d.peer ? 'allow' : 'deny'}`);
    const edgeCell = a.edge ? `${edge.length - diffEdge.length}/${edge.length}` : 'not translated';
    agreeRows.push([a.peer, a.status, `${shared.length - diffShared.length}/${shared.length}`, `${all.length - diffAll.length}/${all.length}`, edgeCell, examples.length ? examples.join('; ') : 'same decisions']);
    agreeData.push({
      peer: a.peer, status: a.status, ran: true, agreeShared: shared.length - diffShared.length, agreeAll: all.length - diffAll.length,
      ...(a.edge ? { agreeEdge: edge.length - diffEdge.length } : {}),
      differences: [...diffAll, ...diffEdge].map((d) => ({ path: d.r.path, subject: d.r.subject, permission: d.r.permission, ours: d.ours, peer: d.peer })),
    });
    ctx.log(`peers: ${a.peer}: agrees on ${shared.length - diffShared.length}/${shared.length} shared, ${all.length - diffAll.length}/${all.length} cross product, edge cases ${edgeCell}${examples.length ? `; e.g. ${examples[0]}` : ''}`);
  }
  data.agreement = agreeData;
  const agreeTable: Table = {
    title: 'Same decisions? (answers compared with our engine before any load)',
    columns: ['peer', 'build / run', 'shared requests', 'cross product', 'edge cases', 'differences'],
    rows: agreeRows,
    notes: [
      `Shared requests: 8 subjects (roles from none to three) × 7 permissions on ${REALISTIC_PATH} (${allows} allowed, ${shared.length - allows} denied); the cross product is 8 subjects × ${RESOURCES.length} resources × ${ACTIONS.length} actions (read, list, delete, purge, and write, which only \`<resource>:*\` reaches).`,
      `Edge cases: a second path (${EDGE_NAMESPACES.join('.')}, bench/peers/model.ts) using what the realistic set does not — \`*\` alone, wildcards in the middle and at the head, three-segment permissions, groups, \`*\` subjects, \`id:\`, revoke then whole or partial re-grant, deny then grant, revoke inside the granting rule, a document without an ordinal — ${EDGE_SUBJECTS.length} subjects × ${EDGE_PERMISSIONS.length} permissions (${expectedEdge.filter(Boolean).length} allowed); checked for agreement only, never loaded.`,
      'The Cerbos native differences are its semantics, not a bug: it has no revoke, so a revoke becomes a DENY, and a DENY in a scope wins over a later grant in the same scope (ours: a later grant restores a revoked permission); it also decides each role separately.',
    ],
  };

  // --- in process: our engine beside node-casbin --------------------------------------
  const inRows: string[][] = [];
  const inData: Record<string, MicroResult> = {};
  {
    const plan = buildPlan(policies);
    const opts = { defaultPermissions: ['*'] };
    const subjects = shared.map((r) => toSubject(r.subject));
    let i = 0;
    const ours = await micro(() => {
      const k = i++ % shared.length;
      const r = shared[k]!;
      return checkPermission(evaluatePlan(plan, { subject: subjects[k]!, namespaces: r.namespaces }, opts), r.permission).allowed;
    }, ctx.quick);
    inData.oursUncached = ours;
    inRows.push(['policy-engine: evaluatePlan + checkPermission (uncached)', int(ours.perSec), ns(ours.avgNs), ns(ours.p50Ns), ns(ours.p99Ns)]);

    const store = new MemoryStore();
    await store.putMany(realisticDocs().map(recordOf));
    const services = await createServices(loadConfig({ LOG_LEVEL: 'silent' }), pino({ level: 'silent' }), store);
    const checkReqs = shared.map((r) => ({ subject: { id: r.subject.id, roles: r.subject.roles }, namespace: r.path, permission: r.permission }));
    // Asked twice: the cache admits a key at its second ask (CACHE_ADMISSION=second).
    for (let ask = 0; ask < 2; ask++) for (const q of checkReqs) services.decisions.check(q);
    let j = 0;
    const hit = await micro(() => services.decisions.check(checkReqs[j++ % checkReqs.length]!), ctx.quick);
    await services.close();
    inData.oursServiceHit = hit;
    inRows.push(['policy-engine: DecisionService.check (cache hit)', int(hit.perSec), ns(hit.avgNs), ns(hit.p50Ns), ns(hit.p99Ns)]);

    if (casbin) {
      const e = casbin.enforcer;
      let k = 0;
      const c = await micro(() => casbinDecide(e, shared[k++ % shared.length]!), ctx.quick);
      inData.casbin = c;
      inRows.push([`node-casbin enforceSync (${casbin.lines} policy lines)`, int(c.perSec), ns(c.avgNs), ns(c.p50Ns), ns(c.p99Ns)]);
    } else inRows.push(['node-casbin', 'not run', '', '', '']);
  }
  for (const r of inRows) ctx.log(`peers: in process: ${r[0]}: ${r[1]}/s, p50 ${r[3]}, p99 ${r[4]}`);
  data.inProcess = inData;
  const inTable: Table = {
    title: 'In process, one core: the 56 shared requests in rotation',
    columns: ['engine', 'decisions/s', 'mean', 'p50', 'p99'],
    rows: inRows,
  };

  // --- over HTTP ----------------------------------------------------------------------
  const s = loadSettings(ctx.quick);
  interface HttpTarget {
    id: string;
    label: string;
    start: () => Promise<Child>;
    requests: LoadRequest[];
    warmRequests: LoadRequest[];
  }
  const targets: HttpTarget[] = [];
  let nonce = 0;
  const oursReq = (verify: boolean, miss: boolean): LoadRequest[] => shared.map((r, i) => ({
    path: '/v1/check',
    body: ourCheckBody(r),
    ...(miss ? { setupRequest: (req: any) => ({ ...req, body: ourCheckBody(r, [`nonce-${nonce++}`]) }) } : {}),
    ...(verify ? { verify: (status: number, body: string) => status === 200 && JSON.parse(body).allowed === expected[i] && (!miss || JSON.parse(body).cached === false) } : {}),
  }));
  targets.push({ id: 'ours-hit', label: 'policy-engine POST /v1/check, cache hit (after the first request of each subject)', start: () => startNodeServer({ mode: 'app' }, 'ours'), requests: oursReq(false, false), warmRequests: oursReq(true, false) });
  targets.push({ id: 'ours-miss', label: 'policy-engine POST /v1/check, cache miss (a unique group per request)', start: () => startNodeServer({ mode: 'app' }, 'ours'), requests: oursReq(false, true), warmRequests: oursReq(true, true) });
  if (opaBin.ok && agreements.find((a) => a.peer.startsWith('OPA'))?.ran) {
    const req = (verify: boolean): LoadRequest[] => shared.map((r, i) => ({
      path: OPA_PATH, body: opaInput(r),
      ...(verify ? { verify: (status: number, body: string) => status === 200 && opaAllowed(JSON.parse(body)) === expected[i] } : {}),
    }));
    targets.push({ id: 'opa', label: `OPA ${OPA_VERSION} POST ${OPA_PATH}`, start: () => startOpa(opaBin.bin!), requests: req(false), warmRequests: req(true) });
  }
  if (cerbosBin.ok && agreements.find((a) => a.peer === cerbosLabel.exact)?.ran) {
    for (const v of ['exact', 'native'] as const) {
      const ref = agreements.find((a) => a.peer === cerbosLabel[v])!;
      const req = (verify: boolean): LoadRequest[] => shared.map((r, i) => ({
        path: CERBOS_PATH, body: cerbosBody(r, v),
        // native: the answer Cerbos gave in the agreement check (its own semantics)
        ...(verify ? { verify: (status: number, body: string) => status === 200 && cerbosAllowed(JSON.parse(body), r.permission) === (v === 'exact' ? expected[i] : ref.shared![i]) } : {}),
      }));
      targets.push({ id: `cerbos-${v}`, label: `Cerbos ${CERBOS_VERSION} ${v}${v === 'native' ? ' (different decisions, for reference)' : ''} POST ${CERBOS_PATH}`, start: () => startCerbos(cerbosBin.bin!), requests: req(false), warmRequests: req(true) });
    }
  }

  const runs: Record<string, LoadResult[]> = {};
  const failures: Record<string, string> = {};
  for (let rep = 1; rep <= s.repeats; rep++) {
    for (const t of targets) {
      if (failures[t.id]) continue;
      let server: Child | undefined;
      try {
        server = await t.start();
        const warm = await runLoad({ port: server.port, requests: t.warmRequests, connections: s.connections, durationSec: s.warmupSec, maxRequests: s.maxRequests });
        const wp = loadProblems(warm);
        if (wp) throw new Error(`warm-up: ${wp}`);
        const r = await runLoad({ port: server.port, requests: t.requests, connections: s.connections, durationSec: s.durationSec, maxRequests: s.maxRequests, pids: [server.pid] });
        const p = loadProblems(r);
        if (p) throw new Error(p);
        (runs[t.id] ??= []).push(r);
        ctx.log(`peers: repeat ${rep}/${s.repeats} ${t.id}: ${int(r.rps)} rps, p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, server CPU ${round(r.serverCores ?? NaN, 2)} cores`);
      } catch (err) {
        failures[t.id] = (err as Error).message.split('\n')[0]!;
        ctx.log(`peers: ${t.id}: FAILED: ${failures[t.id]}`);
      } finally {
        await server?.stop();
      }
    }
  }
  const httpRows: string[][] = [];
  const httpData: Record<string, unknown> = {};
  const base = runs['ours-hit'] ? median(runs['ours-hit'].map((r) => r.rps)) : NaN;
  for (const t of targets) {
    const rs = runs[t.id];
    if (!rs?.length) {
      httpRows.push([t.label, `failed: ${failures[t.id] ?? 'no run'}`, '', '', '', '', '', '']);
      continue;
    }
    const rps = median(rs.map((r) => r.rps));
    const cores = median(rs.map((r) => r.serverCores ?? NaN));
    httpRows.push([
      t.label, int(rps), `${round(rps / base, 2)}×`, ms(median(rs.map((r) => r.latencyMs.p50))), ms(median(rs.map((r) => r.latencyMs.p99))),
      round(cores, 2).toString(), int(rps / cores), rs.map((r) => int(r.rps)).join(' / '),
    ]);
    httpData[t.id] = { rpsMedian: rps, serverCores: cores, runs: rs };
  }
  data.http = httpData;
  const httpTable: Table = {
    title: `Over HTTP: ${s.connections} connections, ${s.warmupSec} s warm-up (every answer checked) then ${s.durationSec} s (≤ ${int(s.maxRequests)} requests), ${s.repeats} repeat(s), medians`,
    columns: ['server', 'rps', 'vs policy-engine hit', 'p50', 'p99', 'server CPU (cores)', 'rps per core', 'rps per repeat'],
    rows: httpRows,
    notes: [
      'Every server runs alone in a child process; the load generator (autocannon) takes most of one of the 2 cores, so a server that can use both (OPA and Cerbos are Go, GOMAXPROCS = 2) competes with it, while Node serves on one. Compare rps per core as well as rps.',
      'Our miss case adds a unique group to each request\'s subject (no rule names groups, so the decision is unchanged but the cache key differs).',
      `OPA: data-driven Rego indexed by namespace, subject and first permission segment (bench/peers/opa.ts); Cerbos: both translations in bench/peers/cerbos.ts; their policies are regenerated under ${path.relative(ROOT, path.join(PEERS_DIR, 'work'))}/.`,
    ],
  };
  if (disagreeing.size) {
    const real = [...disagreeing].filter((p) => !p.startsWith('Cerbos, native'));
    if (real.length) notes.push(`**Disagreement:** ${real.join(', ')} answered differently from our engine; see the table above.`);
  } else notes.push('Every peer that ran gave our engine\'s answers.');
  return { id: 'peers', title: '3. Peers with the same decisions', tables: [agreeTable, inTable, httpTable], notes, data };
}
