// A plan's filter in the caller's database (SPEC §11): a MongoDB find/$match filter and
// a PostgreSQL WHERE clause with $n parameters. Names come only from the caller's field
// mapping or the field itself, and only as plain identifiers (dot-separated for nested
// documents / qualified columns), quoted in SQL; values never enter the text: SQL takes
// them as parameters, Mongo as operands of fixed operators (no $where, no $expr).
// Filters are two-valued with missing = null = false for every comparison: Mongo's
// `$ne` and SQL's NOT are phrased so a missing field does not slip through.

import { PolicyEngineError } from '../../errors.js';
import { fieldsOf, isComparison, type Filter, type Scalar } from './filter.js';

export type FieldMapping = string | { column: string; type?: 'jsonb' | 'array' };
export type FieldMappings = Readonly<Record<string, FieldMapping>>;

export interface SqlPlan {
  where: string;
  params: unknown[];
}

export type MongoFilter = Record<string, unknown>;

const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FIELD = /^(id|attributes\.[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*|namespace\.[A-Za-z0-9_-]+)$/;

function invalid(message: string): never {
  throw new PolicyEngineError('PLAN_FIELD_INVALID', message);
}

function show(s: string): string {
  return JSON.stringify(s.slice(0, 100));
}

/** Check a mapping up front: its keys are plan fields, its names plain identifiers. */
export function checkMappings(fields: FieldMappings | undefined): void {
  if (fields === undefined) return;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) invalid('fields must be an object of field → name');
  for (const [field, m] of Object.entries(fields)) {
    if (!FIELD.test(field)) invalid(`${show(field)} is not a plan field (id, attributes.<name>, namespace.<type>)`);
    const name = typeof m === 'string' ? m : m?.column;
    if (typeof name !== 'string') invalid(`the mapping of ${show(field)} must be a name or { column, type }`);
    if (typeof m === 'object' && m.type !== undefined && m.type !== 'jsonb' && m.type !== 'array') invalid(`the type of ${show(field)} must be jsonb or array`);
    checkName(name, field);
  }
}

function checkName(name: string, field: string): string[] {
  const segments = name.split('.');
  if (name.length > 200 || !segments.every((s) => PLAIN.test(s))) {
    invalid(`${show(name)} (for ${show(field)}) is not a plain identifier: [A-Za-z_][A-Za-z0-9_]*, dot-separated for a nested field or a qualified column; map the field to one`);
  }
  return segments;
}

/** The caller's name of a field: its mapping, else the field without `attributes.` / `namespace.`. */
export function nameOf(field: string, fields: FieldMappings | undefined): { segments: string[]; type?: 'jsonb' | 'array' } {
  const m = fields?.[field];
  if (m !== undefined && Object.prototype.hasOwnProperty.call(fields, field)) {
    const name = typeof m === 'string' ? m : m.column;
    return { segments: checkName(name, field), type: typeof m === 'string' ? undefined : m.type };
  }
  const bare = field.startsWith('attributes.') ? field.slice('attributes.'.length) : field.startsWith('namespace.') ? field.slice('namespace.'.length) : field;
  return { segments: checkName(bare, field) };
}

/** Every field of the filter has a valid name (400 PLAN_FIELD_INVALID otherwise). */
export function checkFilterNames(filter: Filter, fields: FieldMappings | undefined): void {
  for (const f of fieldsOf(filter)) nameOf(f, fields);
}

// ---- MongoDB

const MONGO_OP = { lt: '$lt', le: '$lte', gt: '$gt', ge: '$gte' } as const;

export function toMongo(filter: Filter, fields?: FieldMappings): MongoFilter {
  if (filter === true) return {};
  if (filter === false) return { _id: { $in: [] } };
  if ('and' in filter) {
    const parts = filter.and.map((p) => toMongo(p, fields));
    // one object where the keys do not collide (readable), else $and
    const merged: MongoFilter = {};
    for (const p of parts) {
      for (const k of Object.keys(p)) if (k in merged) return { $and: parts };
      Object.assign(merged, p);
    }
    return merged;
  }
  if ('or' in filter) return { $or: filter.or.map((p) => toMongo(p, fields)) };
  if ('not' in filter) return { $nor: [toMongo(filter.not, fields)] };
  const name = nameOf(filter.field, fields).segments.join('.');
  const v = filter.value;
  switch (filter.op) {
    case 'eq': return { [name]: v };
    case 'ne': return { [name]: { $nin: [v, null] } };
    case 'in': return { [name]: { $in: [...(v as Scalar[])] } };
    case 'exists': return v === true ? { [name]: { $ne: null } } : { [name]: null };
    case 'contains': return { [name]: { $elemMatch: { $eq: v } } };
    default: return { [name]: { [MONGO_OP[filter.op]]: v } };
  }
}

// ---- PostgreSQL

const SQL_OP = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

export function toSql(filter: Filter, fields?: FieldMappings): SqlPlan {
  const params: unknown[] = [];
  const param = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const walk = (f: Filter, top: boolean): string => {
    if (f === true) return 'TRUE';
    if (f === false) return 'FALSE';
    if ('and' in f || 'or' in f) {
      const list = 'and' in f ? f.and : f.or;
      const text = list.map((p) => walk(p, false)).join('and' in f ? ' AND ' : ' OR ');
      return top ? text : `(${text})`;
    }
    if ('not' in f) return `(${walk(f.not, true)}) IS NOT TRUE`;
    if (!isComparison(f)) throw new Error('unreachable');
    const { segments, type } = nameOf(f.field, fields);
    const col = segments.map((s) => `"${s}"`).join('.');
    const v = f.value;
    switch (f.op) {
      case 'exists': return v === true ? `${col} IS NOT NULL` : `${col} IS NULL`;
      case 'in': return `${col} = ANY(${param([...(v as Scalar[])])})`;
      case 'contains':
        if (type === 'jsonb') return `${col} @> ${param(JSON.stringify([v]))}::jsonb`;
        return `${param(v)} = ANY(${col})`;
      default: {
        const p = param(v);
        // CEL orders strings by code point: so does the C collation
        const collate = typeof v === 'string' && f.op !== 'eq' && f.op !== 'ne' ? ' COLLATE "C"' : '';
        return `${col} ${SQL_OP[f.op]} ${p}${collate}`;
      }
    }
  };
  return { where: walk(filter, true), params };
}
