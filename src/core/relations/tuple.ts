// Relationship tuples (SPEC §9): `resource#relation@subject`, where a subject is
// `type:id`, `type:id#relation` (a userset) or `type:*` (every subject of the type).
// Parsing, formatting and the canonical key every store and index share. Pure.

export interface ObjectRef {
  type: string;
  id: string;
}

/** `id` is `*` for a wildcard; `relation` only for a userset. */
export interface SubjectRef {
  type: string;
  id: string;
  relation?: string;
}

export interface Tuple {
  resource: ObjectRef;
  relation: string;
  subject: SubjectRef;
}

/** The JSON form of a tuple on the wire. */
export interface TupleObject {
  resource: string;
  relation: string;
  subject: string;
}

/** Type, relation and permission names. */
export const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Object ids: no `#`, `@` or spaces, so every tuple string splits one way only. */
export const OBJECT_ID = /^[A-Za-z0-9_.:/|=+-]{1,256}$/;
export const WILDCARD = '*';

/** What went wrong with a piece of tuple syntax; the caller decides the error code. */
export class TupleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TupleSyntaxError';
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s);
}

function checkName(kind: string, name: string, whole: string): void {
  if (!NAME.test(name)) throw new TupleSyntaxError(`${quote(whole)}: ${kind} ${quote(name)} must match ${NAME.source}`);
}

/** `type:id` (the first `:` splits; ids may hold more). */
export function parseObject(text: string): ObjectRef {
  const i = text.indexOf(':');
  if (i < 0) throw new TupleSyntaxError(`${quote(text)}: expected type:id`);
  const type = text.slice(0, i);
  const id = text.slice(i + 1);
  checkName('type', type, text);
  if (!OBJECT_ID.test(id)) throw new TupleSyntaxError(`${quote(text)}: id ${quote(id)} must be 1–256 characters of [A-Za-z0-9_.:/|=+-]`);
  return { type, id };
}

/** `type:id`, `type:id#relation` or `type:*`. */
export function parseSubject(text: string): SubjectRef {
  const hash = text.indexOf('#');
  const objectText = hash < 0 ? text : text.slice(0, hash);
  if (objectText.endsWith(`:${WILDCARD}`)) {
    if (hash >= 0) throw new TupleSyntaxError(`${quote(text)}: a wildcard subject takes no relation`);
    const type = objectText.slice(0, -2);
    checkName('type', type, text);
    return { type, id: WILDCARD };
  }
  const object = parseObject(objectText);
  if (hash < 0) return object;
  const relation = text.slice(hash + 1);
  checkName('relation', relation, text);
  return { ...object, relation };
}

/** `type:id#relation@subject`. */
export function parseTuple(text: string): Tuple {
  const at = text.indexOf('@');
  if (at < 0) throw new TupleSyntaxError(`${quote(text)}: expected resource#relation@subject`);
  const left = text.slice(0, at);
  const hash = left.indexOf('#');
  if (hash < 0) throw new TupleSyntaxError(`${quote(text)}: expected resource#relation before the @`);
  const relation = left.slice(hash + 1);
  checkName('relation', relation, text);
  return { resource: parseObject(left.slice(0, hash)), relation, subject: parseSubject(text.slice(at + 1)) };
}

/** A tuple from its string or its JSON object form. */
export function tupleOf(input: string | TupleObject): Tuple {
  if (typeof input === 'string') return parseTuple(input);
  checkName('relation', input.relation, `${input.resource}#${input.relation}@${input.subject}`);
  return { resource: parseObject(input.resource), relation: input.relation, subject: parseSubject(input.subject) };
}

export function formatObject(o: ObjectRef): string {
  return `${o.type}:${o.id}`;
}

export function formatSubject(s: SubjectRef): string {
  return s.relation === undefined ? `${s.type}:${s.id}` : `${s.type}:${s.id}#${s.relation}`;
}

/** The canonical string, also the key under which stores and indexes hold the tuple. */
export function formatTuple(t: Tuple): string {
  return `${t.resource.type}:${t.resource.id}#${t.relation}@${formatSubject(t.subject)}`;
}

export function toTupleObject(t: Tuple): TupleObject {
  return { resource: formatObject(t.resource), relation: t.relation, subject: formatSubject(t.subject) };
}

export function isWildcard(s: SubjectRef): boolean {
  return s.id === WILDCARD;
}

/** Which tuples a read wants; every field optional. A subject filter matches exactly. */
export interface TupleFilter {
  resourceType?: string;
  resourceId?: string;
  relation?: string;
  subjectType?: string;
  subjectId?: string;
  /** '' matches only subjects without a relation */
  subjectRelation?: string;
}

export function matchesFilter(t: Tuple, f: TupleFilter): boolean {
  return (f.resourceType === undefined || f.resourceType === t.resource.type)
    && (f.resourceId === undefined || f.resourceId === t.resource.id)
    && (f.relation === undefined || f.relation === t.relation)
    && (f.subjectType === undefined || f.subjectType === t.subject.type)
    && (f.subjectId === undefined || f.subjectId === t.subject.id)
    && (f.subjectRelation === undefined || f.subjectRelation === (t.subject.relation ?? ''));
}

/**
 * A filter from query-style parts: `resource` is `type` or `type:id`; `subject` is
 * `type`, `type:id`, `type:id#relation` or `type:*`.
 */
export function filterOf(parts: { resource?: string; relation?: string; subject?: string }): TupleFilter {
  const f: TupleFilter = {};
  if (parts.resource !== undefined) {
    if (parts.resource.includes(':')) {
      const o = parseObject(parts.resource);
      f.resourceType = o.type;
      f.resourceId = o.id;
    } else {
      checkName('type', parts.resource, parts.resource);
      f.resourceType = parts.resource;
    }
  }
  if (parts.relation !== undefined) {
    checkName('relation', parts.relation, parts.relation);
    f.relation = parts.relation;
  }
  if (parts.subject !== undefined) {
    if (parts.subject.includes(':')) {
      const s = parseSubject(parts.subject);
      f.subjectType = s.type;
      f.subjectId = s.id;
      f.subjectRelation = s.relation ?? '';
    } else {
      checkName('type', parts.subject, parts.subject);
      f.subjectType = parts.subject;
    }
  }
  return f;
}
