// Named admin credentials (ADMIN_TOKENS_FILE, docs/audit.md): each a name, the verbs it
// may use and the namespace prefixes it reaches, and what proves it: the SHA-256 of its
// bearer token (the file never holds a token), or `jwt:` — which verified JWTs it is
// (a `sub`, or a claim holding a value). The file is read at start (a bad file stops the
// start) and re-read every ADMIN_TOKENS_RELOAD_MS when its size or mtime changed, so a
// removed (revoked) credential stops working on every replica within that interval of
// the file changing on its disk. A file that turns bad on reload revokes every named
// credential (fail closed) until it is fixed; ADMIN_TOKEN, the root credential, keeps working.

import { readFileSync, statSync } from 'node:fs';
import type * as YamlModule from 'js-yaml';
import { lazyPackage } from '../core/lazy-package.js';
import { VERBS, type Verb } from '../core/access.js';
import { claimAt, type VerifiedClaims } from '../engine/tokens/jwt-subjects.js';

const jsYaml = lazyPackage<typeof YamlModule>('js-yaml');

/** Which verified JWTs a credential is: its `sub`, or a claim (dotted path) holding `value`. */
export type JwtMatch = { sub: string } | { claim: string; value: string };

interface Scope {
  name: string;
  verbs: Verb[];
  namespaces: string[];
}

export interface TokenCredential extends Scope {
  kind: 'token';
  /** SHA-256 of the token, 32 bytes */
  digest: Buffer;
}

export interface JwtCredential extends Scope {
  kind: 'jwt';
  jwt: JwtMatch;
}

export type Credential = TokenCredential | JwtCredential;

export interface CredentialSource {
  current(): readonly Credential[];
  close(): void;
}

const NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
// A prefix is a namespace beginning (or `*`, or one ending in `*`).
const PREFIX = /^(?:\*|[A-Za-z0-9_][A-Za-z0-9_:.-]{0,127}\*?)$/;
// A claim name or dotted path (Auth0-style URL claim names included); no whitespace.
const CLAIM = /^\S{1,256}$/;
/** Claim path segments no token may hold (jwt-subjects.ts refuses such tokens): naming one is a mistake. */
const RESERVED_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_JWT_VALUE = 1024;

const isValue = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_JWT_VALUE;

/** The `jwt` field of an entry, or the problem with it. */
function jwtMatchOf(raw: unknown, where: string): JwtMatch | string {
  const shape = `${where}.jwt must be { sub: "<subject>" } or { claim: "<name or dotted.path>", value: "<string>" }`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return shape;
  const j = raw as Record<string, unknown>;
  const keys = Object.keys(j).sort().join(',');
  if (keys === 'sub') return isValue(j.sub) ? { sub: j.sub } : `${where}.jwt.sub must be a string of 1-${MAX_JWT_VALUE} characters`;
  if (keys !== 'claim,value') return shape;
  if (typeof j.claim !== 'string' || !CLAIM.test(j.claim) || j.claim.split('.').some((seg) => seg === '' || RESERVED_SEGMENTS.has(seg))) {
    return `${where}.jwt.claim must be a claim name or dotted path (1-256 characters, no spaces, no empty or reserved segment)`;
  }
  if (!isValue(j.value)) return `${where}.jwt.value must be a string of 1-${MAX_JWT_VALUE} characters`;
  return { claim: j.claim, value: j.value };
}

/** Does a verified token's claims name this credential? A string claim must equal the value; a list claim must hold it. */
export function jwtMatches(match: JwtMatch, claims: VerifiedClaims): boolean {
  if ('sub' in match) return claims.sub === match.sub;
  const v = claimAt(claims, match.claim);
  if (typeof v === 'string') return v === match.value;
  return Array.isArray(v) && v.includes(match.value);
}

export interface ParseOptions {
  /** are JWTs verified (JWT_JWKS_FILE or JWT_JWKS_URL)? Without, a `jwt:` entry could never match: refused */
  jwt: boolean;
}

/** Parse the file's text (JSON or YAML); throws with every problem listed. */
export function parseCredentials(text: string, options: ParseOptions = { jwt: false }): Credential[] {
  const yaml = jsYaml();
  const doc = yaml.load(text, { schema: yaml.JSON_SCHEMA }) as { credentials?: unknown } | null;
  const list = doc?.credentials;
  if (!Array.isArray(list)) throw new Error('the file needs a top-level `credentials` list');
  const problems: string[] = [];
  const out: Credential[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  const matchers = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const c = raw as Record<string, unknown>;
    const where = `credentials[${i}]`;
    if (c === null || typeof c !== 'object') return void problems.push(`${where} is not an object`);
    const unknown = Object.keys(c).filter((k) => !['name', 'sha256', 'jwt', 'verbs', 'namespaces'].includes(k));
    if (unknown.length > 0) problems.push(`${where} has unknown fields: ${unknown.join(', ')}`);
    if (typeof c.name !== 'string' || !NAME.test(c.name)) return void problems.push(`${where}.name must be 1-128 characters of [A-Za-z0-9_.:@-]`);
    if (names.has(c.name)) problems.push(`${where}: the name ${c.name} is used twice`);
    names.add(c.name);
    let proof: { kind: 'token'; digest: Buffer } | { kind: 'jwt'; jwt: JwtMatch };
    if ((c.sha256 === undefined) === (c.jwt === undefined)) return void problems.push(`${where} needs either sha256 (a token's digest) or jwt (which verified JWTs it is), not both`);
    if (c.jwt !== undefined) {
      const jwt = jwtMatchOf(c.jwt, where);
      if (typeof jwt === 'string') return void problems.push(jwt);
      if (!options.jwt) return void problems.push(`${where}.jwt needs JWT verification on (JWT_JWKS_FILE or JWT_JWKS_URL, docs/jwt.md)`);
      // The first matching entry wins (admin-auth.ts): a second one matching the same tokens would never be used.
      const same = JSON.stringify(jwt);
      if (matchers.has(same)) problems.push(`${where}: another credential already matches the same JWTs`);
      matchers.add(same);
      proof = { kind: 'jwt', jwt };
    } else {
      if (typeof c.sha256 !== 'string' || !HEX_DIGEST.test(c.sha256.toLowerCase())) return void problems.push(`${where}.sha256 must be the 64 hex digits of the token's SHA-256`);
      const hex = c.sha256.toLowerCase();
      if (digests.has(hex)) problems.push(`${where}: two credentials share one token`);
      digests.add(hex);
      proof = { kind: 'token', digest: Buffer.from(hex, 'hex') };
    }
    const verbs = c.verbs;
    if (!Array.isArray(verbs) || verbs.length === 0 || !verbs.every((v) => (VERBS as readonly unknown[]).includes(v))) {
      return void problems.push(`${where}.verbs must be a non-empty list of ${VERBS.join(', ')}`);
    }
    const namespaces = c.namespaces;
    if (!Array.isArray(namespaces) || namespaces.length === 0 || !namespaces.every((n) => typeof n === 'string' && PREFIX.test(n))) {
      return void problems.push(`${where}.namespaces must be a non-empty list of namespace prefixes (or "*")`);
    }
    out.push({ name: c.name, ...proof, verbs: verbs as Verb[], namespaces: namespaces as string[] });
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return out;
}

export interface CredentialFileOptions {
  path: string;
  reloadMs: number;
  /** are JWTs verified? (`jwt:` entries need it; see ParseOptions) */
  jwt?: boolean;
  /** told when a reload fails (every named credential is then revoked) or succeeds after a failure */
  onProblem?: (message: string) => void;
}

/** Read the file now (throws when it is missing or bad), then follow its changes. */
export function watchCredentialFile(options: CredentialFileOptions): CredentialSource {
  const parse = { jwt: options.jwt ?? false };
  let current = parseCredentials(readFileSync(options.path, 'utf8'), parse);
  const stamp = () => {
    const s = statSync(options.path);
    return `${s.size}:${s.mtimeMs}:${s.ino}`;
  };
  let seen = stamp();
  let failing = false;
  const timer = setInterval(() => {
    try {
      const now = stamp();
      if (now === seen && !failing) return;
      current = parseCredentials(readFileSync(options.path, 'utf8'), parse);
      seen = now;
      if (failing) options.onProblem?.(`${options.path} reads again: ${current.length} named credential(s)`);
      failing = false;
    } catch (err) {
      if (!failing) options.onProblem?.(`${options.path} cannot be used (${(err as Error).message}): every named credential is refused until it is fixed`);
      failing = true;
      current = [];
    }
  }, options.reloadMs);
  timer.unref();
  return { current: () => current, close: () => clearInterval(timer) };
}

/** A fixed set (tests, or credentials given in code). */
export function staticCredentials(list: readonly Credential[]): CredentialSource {
  return { current: () => list, close: () => {} };
}
