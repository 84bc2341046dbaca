// Configuration: read once from the environment and CLI flags (flags win), validated
// with every problem reported, then passed down. Nothing else reads process.env.

import { existsSync, statSync } from 'node:fs';
import { SETTINGS, type Setting } from './settings.js';
import { databaseOfUrl } from './mongo-url.js';
import { parsePattern } from '../core/pattern.js';
import { isLanguageTag } from '../core/messages/language.js';
import { parseNamespacePath } from '../core/namespace.js';

export interface Config {
  port: number;
  host: string;
  store: 'mongo' | 'file' | 'none';
  mongoUrl?: string;
  mongoDb?: string;
  policyDir: string;
  adminToken?: string;
  readToken?: string;
  decisionToken?: string;
  /** named, scoped credentials (docs/audit.md) */
  adminTokensFile?: string;
  adminTokensReloadMs: number;
  /** how long recorded changes are kept, in days */
  historyRetentionDays: number;
  /** Host header names accepted besides the loopback ones */
  allowedHosts: string[];
  tlsCertFile?: string;
  tlsKeyFile?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  defaultPermissions: string[];
  defaultLanguage: string;
  languageAttribute: string;
  /** languages validate expects every message key in (empty: the default language) */
  messageLanguages: string[];
  pollIntervalMs: number;
  staleAfterMs: number;
  resyncIntervalMs: number;
  cacheMax: number;
  /** when a computed decision is stored: at its key's second ask (a doorkeeper) or its first */
  cacheAdmission: 'first' | 'second';
  cacheMaxBytes: number;
  planCacheMaxBytes: number;
  planResultsMax: number;
  cacheTtlMs: number;
  timeBucketMs: number;
  /** most ids a query plan lists (PLAN_MAX_IDS) */
  planMaxIds: number;
  luaInstructions: number;
  luaTimeMs: number;
  luaMemoryBytes: number;
  /** Lua time per event-loop turn over all scripts; 0 = off */
  luaTurnMs: number;
  /** CEL cost budget per decision (steps, allocation): see core/condition/budget.ts */
  celSteps: number;
  celAllocation: number;
  bodyLimit: number;
  maxNamespaceDepth: number;
  maxNamespaceLength: number;
  storeTimeoutMs: number;
  shutdownTimeoutMs: number;
  decisionLog: boolean;
  decisionLogSample: number;
  decisionLogRedact: string[];
  decisionLogAttributes: boolean;
  /** serve the playground at /ui */
  ui: boolean;
  samples: boolean;
  samplesMax: number;
  samplesMaxBytes: number;
  samplesPerSecond: number;
  samplesShared: boolean;
  previewTimeoutMs: number;
  authzenNamespace: string;
  authzenPdpUrl?: string;
  forwardAuthRoutes?: string;
  forwardAuthSubjectHeader?: string;
  /** JWT subjects (docs/jwt.md): on when a JWKS file or URL is set */
  jwtJwksFile?: string;
  jwtJwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience: string[];
  jwtAlgorithms: string[];
  jwtClockSkewMs: number;
  jwtSubjectPrefix: string;
  jwtRolesClaim: string;
  jwtGroupsClaim: string;
  jwtHeader: string;
  jwtRequired: boolean;
  jwtJwksCooldownMs: number;
  jwtJwksMaxAgeMs: number;
  jwtJwksTimeoutMs: number;
  /** decision-log shipping (observability/decision-shipping.ts) */
  decisionShipNatsUrl?: string;
  decisionShipNatsSubject: string;
  decisionShipHttpUrl?: string;
  decisionShipBatch: number;
  decisionShipBatchBytes: number;
  decisionShipFlushMs: number;
  decisionShipBuffer: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function parseValue(s: Setting, raw: string, source: string, problems: string[]): unknown {
  switch (s.kind) {
    case 'int': {
      const n = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || (s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
        problems.push(`${source}=${JSON.stringify(raw)}: must be an integer from ${s.min} to ${s.max}`);
        return undefined;
      }
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
        problems.push(`${source}=${JSON.stringify(raw)}: must be a number from ${s.min} to ${s.max}`);
        return undefined;
      }
      return n;
    }
    case 'list':
      return raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
    case 'enum':
      if (!s.values!.includes(raw)) {
        problems.push(`${source}=${JSON.stringify(raw)}: must be one of ${s.values!.join(', ')}`);
        return undefined;
      }
      return raw;
    case 'json-string-array': {
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch {
        v = undefined;
      }
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && typeof parsePattern(x) !== 'string')) {
        problems.push(`${source}=${JSON.stringify(raw)}: must be a JSON array of permission patterns, e.g. ["*"] or []`);
        return undefined;
      }
      return v;
    }
    case 'bool':
      if (!['true', 'false', '1', '0', 'on', 'off'].includes(raw)) {
        problems.push(`${source}=${JSON.stringify(raw)}: must be true or false (or on / off)`);
        return undefined;
      }
      return raw === 'true' || raw === '1' || raw === 'on';
    default:
      return raw;
  }
}

/** Flags as `--name value` or `--name=value`; unknown flags are problems. */
function readFlags(argv: readonly string[], problems: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const known = new Set(SETTINGS.map((s) => s.flag));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}`);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(flag)) {
      problems.push(`unknown flag ${flag}`);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) problems.push(`${flag} needs a value`);
    else out.set(flag, value);
  }
  return out;
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): Config {
  const problems: string[] = [];
  const flags = readFlags(argv, problems);
  const values: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const fromFlag = flags.get(s.flag);
    const fromEnv = env[s.env];
    const raw = fromFlag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined) ?? s.default;
    if (raw === undefined) continue;
    const source = fromFlag !== undefined ? s.flag : fromEnv !== undefined && fromEnv !== '' ? s.env : `default of ${s.env}`;
    const v = parseValue(s, raw, source, problems);
    if (v !== undefined) values[s.name] = v;
  }
  values.store ??= values.mongoUrl !== undefined ? 'mongo' : 'file';
  if (values.store === 'mongo' && values.mongoUrl === undefined) problems.push('STORE=mongo needs MONGO_URL');
  if (typeof values.mongoUrl === 'string' && typeof values.mongoDb === 'string') {
    // MONGO_DB is for a URL that names no database: a second, different name would make
    // the service read one database while the operator looks at another (and an empty one
    // answers every path with the default).
    const named = databaseOfUrl(values.mongoUrl);
    if (named !== undefined && named !== values.mongoDb) problems.push(`MONGO_DB=${JSON.stringify(values.mongoDb)} contradicts the database ${JSON.stringify(named)} named in MONGO_URL: set one of them`);
  }
  if (typeof values.mongoUrl === 'string' && !/^mongodb(\+srv)?:\/\//.test(values.mongoUrl)) {
    problems.push('MONGO_URL must start with mongodb:// or mongodb+srv://');
  }
  for (const tag of [values.defaultLanguage, ...((values.messageLanguages as string[] | undefined) ?? [])]) {
    if (typeof tag === 'string' && !isLanguageTag(tag)) problems.push(`${JSON.stringify(tag)} is not a BCP 47 language tag (DEFAULT_LANGUAGE, MESSAGE_LANGUAGES: e.g. en, pt-BR)`);
  }
  if ((values.tlsCertFile === undefined) !== (values.tlsKeyFile === undefined)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE go together');
  }
  for (const name of ['tlsCertFile', 'tlsKeyFile'] as const) {
    const file = values[name];
    if (typeof file === 'string' && !existsSync(file)) problems.push(`${name === 'tlsCertFile' ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'}=${JSON.stringify(file)}: no such file`);
  }
  const dirProblem = explicitPolicyDirProblem(values, flags.has('--policy-dir') ? '--policy-dir' : env.POLICY_DIR ? 'POLICY_DIR' : undefined);
  if (dirProblem !== undefined) problems.push(dirProblem);
  if (typeof values.adminToken === 'string' && values.adminToken.length < 16) {
    problems.push('ADMIN_TOKEN must be at least 16 characters');
  }
  if (typeof values.readToken === 'string') {
    if (values.readToken.length < 16) problems.push('READ_TOKEN must be at least 16 characters');
    if (values.adminToken === undefined) problems.push('READ_TOKEN needs ADMIN_TOKEN: without an admin token reads take no token');
    if (values.readToken === values.adminToken) problems.push('READ_TOKEN must differ from ADMIN_TOKEN');
  }
  if (typeof values.decisionToken === 'string') {
    if (values.decisionToken.length < 16) problems.push('DECISION_TOKEN must be at least 16 characters');
    // Every API service holds the decision token: it must not open writes or reads too.
    if (values.decisionToken === values.adminToken) problems.push('DECISION_TOKEN must differ from ADMIN_TOKEN');
    if (values.decisionToken === values.readToken) problems.push('DECISION_TOKEN must differ from READ_TOKEN');
  }
  if (typeof values.adminTokensFile === 'string') {
    if (values.adminToken === undefined) problems.push('ADMIN_TOKENS_FILE needs ADMIN_TOKEN (the root credential): without it no token is asked for at all');
    if (!existsSync(values.adminTokensFile)) problems.push(`ADMIN_TOKENS_FILE=${JSON.stringify(values.adminTokensFile)}: no such file`);
  }
  for (const h of (values.allowedHosts as string[] | undefined) ?? []) {
    if (h !== '*' && !/^(\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*)$/i.test(h)) problems.push(`ALLOWED_HOSTS: ${JSON.stringify(h)} is not a host name (no scheme, no port)`);
  }
  if (typeof values.authzenNamespace === 'string') {
    const parsed = parseNamespacePath(values.authzenNamespace);
    if (!parsed.ok) problems.push(`AUTHZEN_NAMESPACE=${JSON.stringify(values.authzenNamespace)}: ${parsed.reason}`);
  }
  if (typeof values.authzenPdpUrl === 'string' && !isPdpIdentifier(values.authzenPdpUrl)) {
    problems.push(`AUTHZEN_PDP_URL=${JSON.stringify(values.authzenPdpUrl)}: must be an http(s) URL without query or fragment`);
  }
  problems.push(...jwtProblems(values));
  if (problems.length > 0) throw new ConfigError(problems);
  return values as unknown as Config;
}

/** AuthZEN's policy_decision_point: an https URL with no query or fragment (http allowed for a test bench). */
function isPdpIdentifier(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.search === '' && u.hash === '' && !s.includes('#') && !s.includes('?');
  } catch {
    return false;
  }
}

/** Algorithms a JWKS of public keys can verify; HMAC (a shared secret) and `none` never. */
export const JWT_ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

function jwtProblems(values: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const alg of (values.jwtAlgorithms as string[] | undefined) ?? []) {
    if (!JWT_ASYMMETRIC_ALGORITHMS.includes(alg)) out.push(`JWT_ALGORITHMS: ${JSON.stringify(alg)} is not accepted (only ${JWT_ASYMMETRIC_ALGORITHMS.join(', ')}: HMAC and none never)`);
  }
  const file = values.jwtJwksFile;
  const url = values.jwtJwksUrl;
  if (file === undefined && url === undefined) return out;
  if (file !== undefined && url !== undefined) out.push('JWT_JWKS_FILE and JWT_JWKS_URL: set one, not both');
  if (typeof file === 'string' && !existsSync(file)) out.push(`JWT_JWKS_FILE=${JSON.stringify(file)}: no such file`);
  if (typeof url === 'string') {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      out.push(`JWT_JWKS_URL=${JSON.stringify(url)}: not a URL`);
    }
    if (parsed && parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname))) {
      out.push('JWT_JWKS_URL must be https (plain http only on loopback)');
    }
  }
  if (values.jwtIssuer === undefined) out.push('JWT subjects need JWT_ISSUER (the `iss` tokens must carry)');
  if (((values.jwtAudience as string[] | undefined) ?? []).length === 0) out.push('JWT subjects need JWT_AUDIENCE (the `aud` tokens must name)');
  if (((values.jwtAlgorithms as string[] | undefined) ?? []).length === 0) out.push('JWT_ALGORITHMS must name at least one algorithm');
  if (typeof values.jwtHeader === 'string' && !/^[A-Za-z0-9-]+$/.test(values.jwtHeader)) out.push('JWT_HEADER must be a header name');
  return out;
}

/**
 * A policy directory someone named must exist: creating it would start a service with no
 * documents, where every path gets the default (`["*"]` unless configured) — a typo in
 * POLICY_DIR would open everything. Only the implicit `./policies` may be created.
 */
function explicitPolicyDirProblem(values: Record<string, unknown>, source: string | undefined): string | undefined {
  if (source === undefined || values.store !== 'file' || typeof values.policyDir !== 'string') return undefined;
  const dir = values.policyDir;
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `${source}=${JSON.stringify(dir)}: no such directory (create it, or fix the path; only the default ./policies is created when missing)`
      : `${source}=${JSON.stringify(dir)}: cannot be read (${(err as Error).message})`;
  }
  return isDir ? undefined : `${source}=${JSON.stringify(dir)}: not a directory`;
}

/** Are bearer JWTs verified (a JWKS file or URL is set)? JWT subjects and `jwt:` credentials need it. */
export function jwtVerificationOn(config: { jwtJwksFile?: string; jwtJwksUrl?: string }): boolean {
  return config.jwtJwksFile !== undefined || config.jwtJwksUrl !== undefined;
}

/** Is this listen address reachable only from this machine? */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
