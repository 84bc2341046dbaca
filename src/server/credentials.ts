// Named admin credentials (ADMIN_TOKENS_FILE, docs/audit.md): each a name, the SHA-256 of
// its bearer token (the file never holds a token), the verbs it may use and the
// namespace prefixes it reaches. The file is read at start (a bad file stops the start)
// and re-read every ADMIN_TOKENS_RELOAD_MS when its size or mtime changed, so a removed
// (revoked) credential stops working on every replica within that interval of the file
// changing on its disk. A file that turns bad on reload revokes every named credential
// (fail closed) until it is fixed; ADMIN_TOKEN, the root credential, keeps working.

import { readFileSync, statSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { VERBS, type Verb } from '../core/access.js';

export interface Credential {
  name: string;
  /** SHA-256 of the token, 32 bytes */
  digest: Buffer;
  verbs: Verb[];
  namespaces: string[];
}

export interface CredentialSource {
  current(): readonly Credential[];
  close(): void;
}

const NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
// A prefix is a namespace beginning (or `*`, or one ending in `*`).
const PREFIX = /^(?:\*|[A-Za-z0-9_][A-Za-z0-9_:.-]{0,127}\*?)$/;

/** Parse the file's text (JSON or YAML); throws with every problem listed. */
export function parseCredentials(text: string): Credential[] {
  const doc = yaml.load(text, { schema: yaml.JSON_SCHEMA }) as { credentials?: unknown } | null;
  const list = doc?.credentials;
  if (!Array.isArray(list)) throw new Error('the file needs a top-level `credentials` list');
  const problems: string[] = [];
  const out: Credential[] = [];
  const names = new Set<string>();
  const digests = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const c = raw as Record<string, unknown>;
    const where = `credentials[${i}]`;
    if (c === null || typeof c !== 'object') return void problems.push(`${where} is not an object`);
    const unknown = Object.keys(c).filter((k) => !['name', 'sha256', 'verbs', 'namespaces'].includes(k));
    if (unknown.length > 0) problems.push(`${where} has unknown fields: ${unknown.join(', ')}`);
    if (typeof c.name !== 'string' || !NAME.test(c.name)) return void problems.push(`${where}.name must be 1-128 characters of [A-Za-z0-9_.:@-]`);
    if (names.has(c.name)) problems.push(`${where}: the name ${c.name} is used twice`);
    names.add(c.name);
    if (typeof c.sha256 !== 'string' || !HEX_DIGEST.test(c.sha256.toLowerCase())) return void problems.push(`${where}.sha256 must be the 64 hex digits of the token's SHA-256`);
    const hex = c.sha256.toLowerCase();
    if (digests.has(hex)) problems.push(`${where}: two credentials share one token`);
    digests.add(hex);
    const verbs = c.verbs;
    if (!Array.isArray(verbs) || verbs.length === 0 || !verbs.every((v) => (VERBS as readonly unknown[]).includes(v))) {
      return void problems.push(`${where}.verbs must be a non-empty list of ${VERBS.join(', ')}`);
    }
    const namespaces = c.namespaces;
    if (!Array.isArray(namespaces) || namespaces.length === 0 || !namespaces.every((n) => typeof n === 'string' && PREFIX.test(n))) {
      return void problems.push(`${where}.namespaces must be a non-empty list of namespace prefixes (or "*")`);
    }
    out.push({ name: c.name, digest: Buffer.from(hex, 'hex'), verbs: verbs as Verb[], namespaces: namespaces as string[] });
  });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return out;
}

export interface CredentialFileOptions {
  path: string;
  reloadMs: number;
  /** told when a reload fails (every named credential is then revoked) or succeeds after a failure */
  onProblem?: (message: string) => void;
}

/** Read the file now (throws when it is missing or bad), then follow its changes. */
export function watchCredentialFile(options: CredentialFileOptions): CredentialSource {
  let current = parseCredentials(readFileSync(options.path, 'utf8'));
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
      current = parseCredentials(readFileSync(options.path, 'utf8'));
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
