// JWT subjects (SPEC §12, docs/jwt.md): a bearer JWT verified with `jose` against a JWKS
// (a file or a URL, cached, read again on an unknown `kid` at most once per cooldown),
// its `iss`, `aud`, `exp` / `nbf` (with a small clock skew) checked, and turned into the
// request's subject: `sub` with a prefix → the id, a configured claim → roles (and
// groups), every other claim → attributes.
//
// Refused, always with 401 TOKEN_INVALID and a stable `details.reason`, never a guess:
// `alg: none` and any algorithm outside the configured asymmetric list (so HMAC signed
// with the RSA public key as the secret never verifies), headers that carry their own key
// or a URL for one (`jwk`, `jku`, `x5u`, `x5c`), kids longer than 256 characters and
// tokens over 16 KiB (checked before any key lookup), unknown keys, bad signatures,
// expired or not-yet-valid tokens, another issuer or audience, no `sub`. A JWKS that
// cannot be read is 503 TOKEN_KEYS_UNAVAILABLE: no token is accepted then.
//
// What the AuthZEN / forward-auth routes call: `createJwtSubjects(config)` (undefined
// when JWT subjects are off), then `tokenOf(headers)` and `verify(token)` → SubjectInput.
// The admin guard (src/server/admin-auth.ts) calls `verifyClaims(token)`: the same
// checks, the claims without the subject made of them (JWT credentials, docs/audit.md).

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { lazyPackage } from '../../core/lazy-package.js';
import { PolicyEngineError } from '../../errors.js';
import { jwtVerificationOn } from '../../config/config.js';

// jose is loaded when the first key set is made or the first token checked.
const jose = lazyPackage<typeof import('jose')>('jose');

/** A subject taken from a token: the request shape (`SubjectInput` object form). */
export interface TokenSubject {
  id: string;
  roles: string[];
  groups: string[];
  attributes: Record<string, unknown>;
}

export interface JwtSettings {
  jwksFile?: string;
  jwksUrl?: string;
  issuer: string;
  audience: readonly string[];
  algorithms: readonly string[];
  clockSkewMs: number;
  /** '' for none */
  subjectPrefix: string;
  rolesClaim: string;
  groupsClaim: string;
  /** lower-case header name; `authorization` takes the Bearer scheme */
  header: string;
  /** evaluate / check refuse a request without a token */
  required: boolean;
  /**
   * This server's own bearer tokens (DECISION_TOKEN, ADMIN_TOKEN, READ_TOKEN): in
   * `Authorization` they are credentials, never taken for a JWT whatever their shape.
   */
  ownTokens?: readonly string[];
  jwksCooldownMs: number;
  jwksMaxAgeMs: number;
  jwksTimeoutMs: number;
  /** the clock (ms since the epoch); injectable for tests of the cooldown */
  now?: () => number;
}

/** The reasons a token is refused (`details.reason` of TOKEN_INVALID). */
export type TokenRefusal =
  | 'missing' | 'malformed' | 'algorithm' | 'header' | 'unknown_key' | 'signature'
  | 'expired' | 'not_yet_valid' | 'issuer' | 'audience' | 'claims';

export const MAX_TOKEN_BYTES = 16 * 1024;
export const MAX_KID_LENGTH = 256;
/** Longest `sub` (and subject id made of it): it becomes an id, or an actor in the history. */
const MAX_SUB_LENGTH = 1024;
/** Headers that name or carry a key: a token never chooses the key that verifies it. */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Keys no claim may hold at any depth: the claims become attributes, which must not reach object prototypes. */
const POISONED = new Set(['__proto__', 'constructor', 'prototype']);

export function refuse(reason: TokenRefusal, message: string): PolicyEngineError {
  return new PolicyEngineError('TOKEN_INVALID', message, { reason });
}

class KeysUnavailable extends Error {}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A JWKS file, read when first needed and again on an unknown kid (at most once per cooldown). */
class FileKeys {
  private keys: JWTVerifyGetKey | undefined;
  private lastRead = Number.NEGATIVE_INFINITY;

  constructor(private readonly file: string, private readonly cooldownMs: number, private readonly now: () => number) {}

  private async load(): Promise<void> {
    this.lastRead = this.now();
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      throw new KeysUnavailable(`the JWKS file ${this.file} cannot be read: ${(err as Error).message}`);
    }
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(text) as JSONWebKeySet;
      this.keys = jose().createLocalJWKSet(jwks);
    } catch (err) {
      throw new KeysUnavailable(`the JWKS file ${this.file} is not a JWKS: ${(err as Error).message}`);
    }
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.keys) await this.load();
    try {
      return await this.keys!(header, token);
    } catch (err) {
      if (!(err instanceof jose().errors.JWKSNoMatchingKey) || this.now() - this.lastRead < this.cooldownMs) throw err;
      // An unknown kid: keys may have rotated. Read again (rate-limited), then try once more.
      await this.load();
      return this.keys!(header, token);
    }
  };
}

/** Keys from a URL (jose's remote set: cached, refetched on an unknown kid after the cooldown); fetch failures are 503s. */
function remoteKeys(url: string, s: JwtSettings): JWTVerifyGetKey {
  const remote = jose().createRemoteJWKSet(new URL(url), { timeoutDuration: s.jwksTimeoutMs, cooldownDuration: s.jwksCooldownMs, cacheMaxAge: s.jwksMaxAgeMs });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      const { errors } = jose();
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported) throw err;
      throw new KeysUnavailable(`the JWKS at ${url} cannot be read: ${(err as Error).message}`);
    }
  };
}

/**
 * Is this bearer value meant as a JWT (three dot-separated parts)? Such a value is
 * verified as one, and refused when it does not verify; any other is an opaque token.
 */
export function isJwtShaped(value: string): boolean {
  return value.split('.').length === 3;
}

/** Claims that passed every check of `verifyClaims`; `sub` is a non-empty string. */
export type VerifiedClaims = JWTPayload & { sub: string };

/** The claim named `path`: a top-level claim of that exact name, else a dotted path into objects. */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let cur: unknown = payload;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function namesOf(value: unknown, claim: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.split(' ').filter((x) => x !== '');
  if (Array.isArray(value) && value.every((x) => typeof x === 'string')) return [...new Set(value.filter((x) => x !== ''))];
  throw refuse('claims', `claim ${claim} must be a list of strings or a space-separated string`);
}

function poisoned(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (depth > 32) return true;
  for (const k of Object.keys(v)) if (POISONED.has(k) || poisoned((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/** The jose error of a failed verification, as a refusal (or a 503 when the keys could not be read). */
function refusalOf(err: unknown): PolicyEngineError {
  const { errors } = jose();
  if (err instanceof PolicyEngineError) return err;
  if (err instanceof KeysUnavailable) return new PolicyEngineError('TOKEN_KEYS_UNAVAILABLE', err.message);
  if (err instanceof errors.JWTExpired) return refuse('expired', 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return refuse('issuer', 'the token was issued by another issuer');
    if (err.claim === 'aud') return refuse('audience', 'the token is meant for another audience');
    if (err.claim === 'nbf' || err.claim === 'iat') return refuse('not_yet_valid', 'the token is not valid yet');
    return refuse('claims', `claim ${err.claim}: ${err.reason}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return refuse('algorithm', 'the token\'s algorithm is not accepted');
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return refuse('unknown_key', 'no key of the JWKS matches the token');
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse('signature', 'the token\'s signature does not verify');
  if (err instanceof errors.JOSEError) return refuse('malformed', 'the token is malformed');
  return refuse('malformed', 'the token cannot be verified');
}

export class JwtSubjects {
  private readonly getKey: JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly ownTokens: Buffer[];

  constructor(private readonly settings: JwtSettings) {
    this.ownTokens = (settings.ownTokens ?? []).map(sha256);
    const now = settings.now ?? Date.now;
    if (settings.jwksFile !== undefined) this.getKey = new FileKeys(settings.jwksFile, settings.jwksCooldownMs, now).getKey;
    else if (settings.jwksUrl !== undefined) this.getKey = remoteKeys(settings.jwksUrl, settings);
    else throw new Error('JwtSubjects: a JWKS file or URL is needed');
    this.algorithms = [...settings.algorithms];
  }

  /** Must evaluate and check carry a token? */
  get required(): boolean {
    return this.settings.required;
  }

  /**
   * The JWT a request carries, or undefined when it carries none. With the
   * `authorization` header, a bearer value not shaped as a JWT (an opaque API token)
   * is not one; any other configured header's whole value is taken as the JWT.
   */
  tokenOf(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
    const raw = headers[this.settings.header];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || value.trim() === '') return undefined;
    if (this.settings.header === 'authorization') {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
      if (!m || !isJwtShaped(m[1]!)) return undefined;
      return this.isOwnToken(m[1]!) ? undefined : m[1];
    }
    return value.trim().replace(/^Bearer[ \t]+/i, '');
  }

  /** Is `value` one of this server's bearer tokens? Constant time: every comparison runs. */
  private isOwnToken(value: string): boolean {
    if (this.ownTokens.length === 0) return false;
    const given = sha256(value);
    let own = false;
    for (const t of this.ownTokens) own = timingSafeEqual(given, t) || own;
    return own;
  }

  /**
   * Verify `token` — its shape, algorithm, headers, key, signature, `iss`, `aud`, `exp` /
   * `nbf`, a `sub` and no reserved keys — and return its claims; TOKEN_INVALID (401) or
   * TOKEN_KEYS_UNAVAILABLE (503) otherwise.
   */
  async verifyClaims(token: string): Promise<VerifiedClaims> {
    const s = this.settings;
    if (token.length > MAX_TOKEN_BYTES) throw refuse('malformed', `the token is longer than ${MAX_TOKEN_BYTES} bytes`);
    if (!COMPACT_JWS.test(token)) throw refuse('malformed', 'the token is not a signed JWT (three base64url parts)');
    let header: Record<string, unknown>;
    try {
      header = jose().decodeProtectedHeader(token) as Record<string, unknown>;
    } catch {
      throw refuse('malformed', 'the token header is not base64url JSON');
    }
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg)) {
      throw refuse('algorithm', `algorithm ${JSON.stringify(String(header.alg).slice(0, 20))} is not accepted (${this.algorithms.join(', ')})`);
    }
    if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > MAX_KID_LENGTH)) {
      throw refuse('malformed', `kid must be a string of 1 to ${MAX_KID_LENGTH} characters`);
    }
    const forged = KEY_HEADERS.find((h) => Object.hasOwn(header, h));
    if (forged !== undefined) throw refuse('header', `the token names its own key (${forged}); keys come only from the configured JWKS`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jose().jwtVerify(token, this.getKey, {
        issuer: s.issuer,
        audience: [...s.audience],
        algorithms: this.algorithms,
        clockTolerance: Math.round(s.clockSkewMs / 1000),
        requiredClaims: ['exp', 'sub'],
        ...(s.now ? { currentDate: new Date(s.now()) } : {}),
      }));
    } catch (err) {
      throw refusalOf(err);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw refuse('claims', 'the token has no subject (sub)');
    if (payload.sub.length > MAX_SUB_LENGTH) throw refuse('claims', 'the subject is too long');
    if (poisoned(payload)) throw refuse('claims', 'the token\'s claims hold a reserved key (__proto__, constructor, prototype)');
    return payload as VerifiedClaims;
  }

  /** Verify `token` and make the subject; TOKEN_INVALID (401) or TOKEN_KEYS_UNAVAILABLE (503) otherwise. */
  async verify(token: string): Promise<TokenSubject> {
    const s = this.settings;
    const payload = await this.verifyClaims(token);
    const id = `${s.subjectPrefix}${payload.sub}`;
    if (id.length > MAX_SUB_LENGTH) throw refuse('claims', 'the subject is too long');
    const roles = namesOf(claimAt(payload, s.rolesClaim), s.rolesClaim);
    const groups = namesOf(claimAt(payload, s.groupsClaim), s.groupsClaim);
    const attributes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(payload)) {
      if (k === 'sub' || k === s.rolesClaim || k === s.groupsClaim) continue;
      attributes[k] = v;
    }
    return { id, roles, groups, attributes };
  }
}

/** The configured JWT subjects, or undefined when no JWKS is set (JWT subjects off). */
export function createJwtSubjects(config: {
  jwtJwksFile?: string; jwtJwksUrl?: string; jwtIssuer?: string; jwtAudience: readonly string[]; jwtAlgorithms: readonly string[];
  jwtClockSkewMs: number; jwtSubjectPrefix: string; jwtRolesClaim: string; jwtGroupsClaim: string; jwtHeader: string; jwtRequired: boolean;
  jwtJwksCooldownMs: number; jwtJwksMaxAgeMs: number; jwtJwksTimeoutMs: number;
  decisionToken?: string; adminToken?: string; readToken?: string;
}): JwtSubjects | undefined {
  if (!jwtVerificationOn(config)) return undefined;
  return new JwtSubjects({
    ...(config.jwtJwksFile !== undefined ? { jwksFile: config.jwtJwksFile } : {}),
    ...(config.jwtJwksUrl !== undefined ? { jwksUrl: config.jwtJwksUrl } : {}),
    issuer: config.jwtIssuer ?? '',
    audience: config.jwtAudience,
    algorithms: config.jwtAlgorithms,
    clockSkewMs: config.jwtClockSkewMs,
    subjectPrefix: config.jwtSubjectPrefix === '-' ? '' : config.jwtSubjectPrefix,
    rolesClaim: config.jwtRolesClaim,
    groupsClaim: config.jwtGroupsClaim,
    header: config.jwtHeader.toLowerCase(),
    required: config.jwtRequired,
    ownTokens: [config.decisionToken, config.adminToken, config.readToken].filter((x): x is string => x !== undefined),
    jwksCooldownMs: config.jwtJwksCooldownMs,
    jwksMaxAgeMs: config.jwtJwksMaxAgeMs,
    jwksTimeoutMs: config.jwtJwksTimeoutMs,
  });
}
