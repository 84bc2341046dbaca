// The directory's entities (SPEC §12): stored roles, groups and attributes of a subject
// or a resource, by ref (`type:id`, e.g. `user:alice`, `record:101`). Pure: the grammar
// of refs and bodies, and the merge into a request's inputs, which the one decision
// function (core/evaluate/decide.ts) applies on every evaluation path.

import { inputBoundsProblem } from '../evaluate/conditions.js';

/** What is stored for one ref. */
export interface EntityData {
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** An entity as a store holds it. */
export interface StoredEntity extends EntityData {
  readonly ref: string;
  /** the directory revision that wrote it (decimal); its ETag is `"e<revision>"` */
  readonly revision: string;
  readonly updatedAt: string;
}

/** What an evaluation reads from the directory: synchronous, from memory. */
export interface EntityLookup {
  get(ref: string): StoredEntity | undefined;
}

/** Most roles, and most groups, of one entity. */
export const MAX_ENTITY_LIST = 1000;
/** Longest role or group name. */
export const MAX_NAME_LENGTH = 256;
/** Most bytes of one entity's attributes as JSON. */
export const MAX_ATTRIBUTE_BYTES = 64 * 1024;
/** Longest type; ids are 1–256 printable characters (SPEC §12: emails, opaque ids). */
export const MAX_TYPE_LENGTH = 64;
export const MAX_ID_LENGTH = 256;
/** Most entities in one bulk import. */
export const MAX_IMPORT = 1000;

const TYPE_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
// Printable: no C0/C1 controls, no DEL, no lone surrogates (a well-formed string).
// eslint-disable-next-line no-control-regex
const UNPRINTABLE_RE = /[\u0000-\u001f\u007f-\u009f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const encoder = new TextEncoder();

/** The ETag of an entity written at `revision`. */
export function entityEtag(revision: string): string {
  return `"e${revision}"`;
}

/** Why `ref` is not an entity ref, or undefined when it is one. */
export function refProblem(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return 'a ref is a string type:id';
  const colon = ref.indexOf(':');
  if (colon <= 0) return `${JSON.stringify(ref.slice(0, 100))} is not type:id`;
  const type = ref.slice(0, colon);
  const id = ref.slice(colon + 1);
  if (type.length > MAX_TYPE_LENGTH || !TYPE_RE.test(type)) return `type ${JSON.stringify(type.slice(0, 100))} must be a letter then letters, digits, _ . - (at most ${MAX_TYPE_LENGTH})`;
  if (id.length === 0 || id.length > MAX_ID_LENGTH) return `id must be 1 to ${MAX_ID_LENGTH} characters`;
  if (UNPRINTABLE_RE.test(id)) return 'id must be printable characters';
  return undefined;
}

/** `type` of a valid ref. */
export function refType(ref: string): string {
  return ref.slice(0, ref.indexOf(':'));
}

/** Why `type` cannot be a type filter, or undefined. */
export function typeProblem(type: string): string | undefined {
  return type.length > MAX_TYPE_LENGTH || !TYPE_RE.test(type) ? `type ${JSON.stringify(type.slice(0, 100))} must be a letter then letters, digits, _ . -` : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function nameList(v: unknown, field: string, errors: string[]): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    errors.push(`${field} must be a list of strings`);
    return [];
  }
  if (v.length > MAX_ENTITY_LIST) errors.push(`${field} holds at most ${MAX_ENTITY_LIST} names`);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [i, name] of v.slice(0, MAX_ENTITY_LIST).entries()) {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || UNPRINTABLE_RE.test(name)) {
      errors.push(`${field}[${i}] must be 1 to ${MAX_NAME_LENGTH} printable characters`);
      continue;
    }
    if (!seen.has(name)) out.push(name);
    seen.add(name);
  }
  return out;
}

/** Keys no attribute map may hold (they would reach object prototypes downstream). */
function poisonedKey(v: unknown, depth = 0): string | undefined {
  if (depth > 64 || v === null || typeof v !== 'object') return undefined;
  for (const k of Object.keys(v)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') return k;
    const inner = poisonedKey((v as Record<string, unknown>)[k], depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

export type EntityBodyResult = { ok: true; entity: EntityData } | { ok: false; errors: string[] };

/**
 * `{ roles?, groups?, attributes? }` (and `ref` when `allowRef`): every problem listed.
 * Roles and groups keep their first occurrence's order; duplicates are dropped.
 */
export function parseEntityBody(body: unknown, allowRef = false): EntityBodyResult {
  if (!isPlainObject(body)) return { ok: false, errors: ['an entity is an object { roles?, groups?, attributes? }'] };
  const errors: string[] = [];
  for (const k of Object.keys(body)) {
    if (k !== 'roles' && k !== 'groups' && k !== 'attributes' && !(allowRef && k === 'ref')) errors.push(`unknown field ${JSON.stringify(k.slice(0, 100))}`);
  }
  const roles = nameList(body.roles, 'roles', errors);
  const groups = nameList(body.groups, 'groups', errors);
  let attributes: Record<string, unknown> = {};
  if (body.attributes !== undefined) {
    if (!isPlainObject(body.attributes)) errors.push('attributes must be an object');
    else {
      attributes = body.attributes;
      const bounds = inputBoundsProblem([attributes]);
      if (bounds !== undefined) errors.push(`attributes: ${bounds.replace('request inputs', 'they')}`);
      else {
        const poisoned = poisonedKey(attributes);
        if (poisoned !== undefined) errors.push(`attributes must not hold the key ${poisoned}`);
        else {
          let size: number;
          try {
            size = encoder.encode(JSON.stringify(attributes)).length;
          } catch {
            size = Infinity;
          }
          if (size > MAX_ATTRIBUTE_BYTES) errors.push(`attributes are larger than ${MAX_ATTRIBUTE_BYTES} bytes as JSON`);
        }
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, entity: { roles, groups, attributes: JSON.parse(JSON.stringify(attributes)) as Record<string, unknown> } };
}

/** Roles or groups of the request, then the stored ones it lacks. */
function unite(sent: readonly string[], stored: readonly string[]): readonly string[] {
  if (stored.length === 0) return sent;
  if (sent.length === 0) return stored;
  const have = new Set(sent);
  const out = [...sent];
  for (const s of stored) if (!have.has(s)) out.push(s);
  return out;
}

/** Stored attributes under the sent ones: an attribute the request sends wins. */
function overlay(sent: Readonly<Record<string, unknown>> | undefined, stored: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { ...stored, ...(sent ?? {}) };
}

interface SubjectLike {
  readonly id: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
}

interface ResourceLike {
  readonly type?: string;
  readonly id?: string;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** What the directory added to a request: the stored entities used (for the answer's revision). */
export interface EntityMerge<S, R> {
  subject: S;
  resource: R;
  /** the highest revision among the entities merged in; undefined when none was stored */
  revision?: string;
}

/**
 * Merge the stored subject (ref = the subject id) and resource (ref = `type:id`) into a
 * request (SPEC §12): roles and groups united, an attribute the request sends wins.
 * A resource's stored roles and groups are not inputs of a resource: only its attributes
 * join. Unchanged inputs are returned as they were (no copy when nothing is stored).
 */
export function mergeEntities<S extends SubjectLike, R extends ResourceLike | undefined>(lookup: EntityLookup | undefined, subject: S, resource: R): EntityMerge<S, R> {
  if (!lookup) return { subject, resource };
  let revision: number | undefined;
  const stored = lookup.get(subject.id);
  let s = subject;
  if (stored) {
    s = { ...subject, roles: unite(subject.roles, stored.roles), groups: unite(subject.groups, stored.groups), attributes: overlay(subject.attributes, stored.attributes) };
    revision = Number(stored.revision);
  }
  let r = resource;
  if (resource && typeof resource.type === 'string' && typeof resource.id === 'string') {
    const storedResource = lookup.get(`${resource.type}:${resource.id}`);
    if (storedResource) {
      r = { ...resource, attributes: overlay(resource.attributes, storedResource.attributes) };
      revision = Math.max(revision ?? 0, Number(storedResource.revision));
    }
  }
  return revision === undefined ? { subject: s, resource: r } : { subject: s, resource: r, revision: String(revision) };
}
