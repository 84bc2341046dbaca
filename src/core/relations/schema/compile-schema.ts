// Schema text → compiled schema, or every error found, each naming its place
// (`document.permissions.read: unknown relation or permission 'ownr'`), with line and
// column for YAML. Checks: shape, names, subject types, arrows, name clashes, and
// recursion that cannot be decided (see recursion.ts). Pure.

import { DEFAULT_PARSE_LIMITS, parseText, positionErrors, type ParseLimits } from '../../document/parse.js';
import type { DocumentFormat } from '../../document/types.js';
import { NAME } from '../tuple.js';
import { ExpressionError, parseExpression, type Expr } from './expression.js';
import { checkRecursion, dependentsOf } from './recursion.js';
import type {
  AllowedSubject, CompiledSchema, CompiledType, Definition, PermissionDef, RelationDef, Rewrite, SchemaError,
} from './types.js';

export const SCHEMA_LIMITS = { maxTypes: 500, maxDefinitionsPerType: 200, maxAllowedPerRelation: 50, maxErrors: 100 };

export type SchemaResult = { ok: true; schema: CompiledSchema } | { ok: false; errors: SchemaError[] };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One permission before resolution: its expression(s) as parsed. */
interface PendingPermission {
  def: PermissionDef;
  path: string;
  /** each with the path of its source (`…read` or `…read[1]`) */
  parts: Array<{ expr: Expr; path: string }>;
}

class Collector {
  readonly errors: SchemaError[] = [];
  add(path: string, message: string): void {
    this.errors.push({ path, message });
  }
}

function parseAllowed(text: unknown, path: string, errs: Collector): AllowedSubject | undefined {
  if (typeof text !== 'string') {
    errs.add(path, 'must be a type name, `type#relation` or `type:*`');
    return undefined;
  }
  const wildcard = /^([^:#]+):\*$/.exec(text);
  if (wildcard) return NAME.test(wildcard[1]!) ? { kind: 'wildcard', type: wildcard[1]! } : (errs.add(path, `'${text}' is not a valid type name`), undefined);
  const [type, relation, extra] = text.split('#');
  if (extra !== undefined || !NAME.test(type ?? '') || (relation !== undefined && !NAME.test(relation))) {
    errs.add(path, `'${text.slice(0, 100)}' must be a type name, \`type#relation\` or \`type:*\``);
    return undefined;
  }
  return relation === undefined ? { kind: 'direct', type: type! } : { kind: 'userset', type: type!, relation };
}

function describeAllowed(a: AllowedSubject): string {
  return a.kind === 'direct' ? a.type : a.kind === 'userset' ? `${a.type}#${a.relation}` : `${a.type}:*`;
}

/** First pass: the shape, every name, relations; permissions parsed but not resolved. */
function readShape(value: unknown, errs: Collector): { types: Map<string, Map<string, Definition>>; pending: PendingPermission[] } {
  const types = new Map<string, Map<string, Definition>>();
  const pending: PendingPermission[] = [];
  let ordinal = 0;
  if (!isPlainObject(value)) {
    errs.add('', 'a schema is a map from type names to { relations, permissions }');
    return { types, pending };
  }
  const entries = Object.entries(value);
  if (entries.length === 0) errs.add('', 'the schema defines no type');
  if (entries.length > SCHEMA_LIMITS.maxTypes) errs.add('', `more than ${SCHEMA_LIMITS.maxTypes} types`);
  for (const [typeName, body] of entries.slice(0, SCHEMA_LIMITS.maxTypes)) {
    if (!NAME.test(typeName)) {
      errs.add(typeName, `'${typeName.slice(0, 100)}' is not a valid type name (${NAME.source})`);
      continue;
    }
    const defs = new Map<string, Definition>();
    types.set(typeName, defs);
    if (body === null) continue; // `user:` with nothing after it
    if (!isPlainObject(body)) {
      errs.add(typeName, 'must be a map with `relations` and/or `permissions`');
      continue;
    }
    for (const key of Object.keys(body)) if (key !== 'relations' && key !== 'permissions') errs.add(`${typeName}.${key}`, 'unknown field (a type has `relations` and `permissions`)');
    const relations = body.relations ?? {};
    const permissions = body.permissions ?? {};
    if (!isPlainObject(relations)) errs.add(`${typeName}.relations`, 'must be a map from relation names to lists of subject types');
    if (!isPlainObject(permissions)) errs.add(`${typeName}.permissions`, 'must be a map from permission names to expressions');
    const relEntries = isPlainObject(relations) ? Object.entries(relations) : [];
    const permEntries = isPlainObject(permissions) ? Object.entries(permissions) : [];
    if (relEntries.length + permEntries.length > SCHEMA_LIMITS.maxDefinitionsPerType) {
      errs.add(typeName, `more than ${SCHEMA_LIMITS.maxDefinitionsPerType} relations and permissions`);
      continue;
    }
    for (const [name, list] of relEntries) {
      const path = `${typeName}.relations.${name}`;
      if (!NAME.test(name)) {
        errs.add(path, `'${name.slice(0, 100)}' is not a valid relation name (${NAME.source})`);
        continue;
      }
      if (!Array.isArray(list) || list.length === 0) {
        errs.add(path, 'must be a non-empty list of subject types (`user`, `group#member`, `user:*`)');
        continue;
      }
      const allowed: AllowedSubject[] = [];
      const seen = new Set<string>();
      list.slice(0, SCHEMA_LIMITS.maxAllowedPerRelation).forEach((item, i) => {
        const a = parseAllowed(item, `${path}[${i}]`, errs);
        if (!a) return;
        const text = describeAllowed(a);
        if (seen.has(text)) errs.add(`${path}[${i}]`, `'${text}' is listed twice`);
        seen.add(text);
        allowed.push(a);
      });
      if (list.length > SCHEMA_LIMITS.maxAllowedPerRelation) errs.add(path, `more than ${SCHEMA_LIMITS.maxAllowedPerRelation} subject types`);
      defs.set(name, {
        kind: 'relation', type: typeName, name, key: `${typeName}#${name}`, ordinal: ordinal++, allowed,
        direct: new Set(allowed.filter((a) => a.kind === 'direct').map((a) => a.type)),
        wildcard: new Set(allowed.filter((a) => a.kind === 'wildcard').map((a) => a.type)),
        usersets: new Set(allowed.filter((a) => a.kind === 'userset').map((a) => describeAllowed(a))),
      });
    }
    for (const [name, source] of permEntries) {
      const path = `${typeName}.permissions.${name}`;
      if (!NAME.test(name)) {
        errs.add(path, `'${name.slice(0, 100)}' is not a valid permission name (${NAME.source})`);
        continue;
      }
      if (defs.has(name)) {
        errs.add(path, `'${name}' is both a relation and a permission of ${typeName}`);
        continue;
      }
      const sources: Array<{ text: unknown; path: string }> = Array.isArray(source)
        ? source.map((s, i) => ({ text: s, path: `${path}[${i}]` }))
        : [{ text: source, path }];
      if (sources.length === 0) errs.add(path, 'an empty list grants nothing; write at least one name');
      const parts: PendingPermission['parts'] = [];
      for (const s of sources) {
        if (typeof s.text !== 'string') {
          errs.add(s.path, 'must be an expression (a string) or a list of them');
          continue;
        }
        try {
          parts.push({ expr: parseExpression(s.text), path: s.path });
        } catch (err) {
          errs.add(s.path, err instanceof ExpressionError ? err.message : String(err));
        }
      }
      const text = Array.isArray(source) ? source.filter((s) => typeof s === 'string').join(' | ') : String(source);
      // The rewrite is filled in by the second pass, once every name is known.
      const def: PermissionDef = { kind: 'permission', type: typeName, name, key: `${typeName}#${name}`, ordinal: ordinal++, source: text, rewrite: { op: 'union', args: [] } };
      defs.set(name, def);
      pending.push({ def, path, parts });
    }
  }
  return { types, pending };
}

function checkRelations(types: Map<string, Map<string, Definition>>, errs: Collector): void {
  for (const [typeName, defs] of types) {
    for (const def of defs.values()) {
      if (def.kind !== 'relation') continue;
      def.allowed.forEach((a, i) => {
        const path = `${typeName}.relations.${def.name}[${i}]`;
        const target = types.get(a.type);
        if (!target) errs.add(path, `unknown type '${a.type}'`);
        else if (a.kind === 'userset' && !target.has(a.relation)) errs.add(path, `type '${a.type}' has no relation or permission '${a.relation}'`);
      });
    }
  }
}

function resolve(expr: Expr, typeName: string, types: Map<string, Map<string, Definition>>, path: string, errs: Collector): Rewrite | undefined {
  const defs = types.get(typeName)!;
  switch (expr.op) {
    case 'name': {
      const def = defs.get(expr.name);
      if (!def) {
        errs.add(path, `unknown relation or permission '${expr.name}' (column ${expr.column})`);
        return undefined;
      }
      return { op: 'ref', def };
    }
    case 'arrow': {
      const via = defs.get(expr.via);
      if (!via) {
        errs.add(path, `${expr.via}->${expr.target}: unknown relation '${expr.via}' (column ${expr.column})`);
        return undefined;
      }
      if (via.kind !== 'relation') {
        errs.add(path, `${expr.via}->${expr.target}: an arrow goes through a relation; '${expr.via}' is a permission`);
        return undefined;
      }
      const targets = new Map<string, Definition>();
      let ok = true;
      for (const a of via.allowed) {
        if (a.kind === 'wildcard') {
          errs.add(path, `${expr.via}->${expr.target}: '${expr.via}' allows '${a.type}:*'; an arrow cannot walk through a wildcard`);
          ok = false;
          continue;
        }
        const target = types.get(a.type)?.get(expr.target);
        if (!types.has(a.type)) continue; // reported on the relation
        if (!target) {
          errs.add(path, `${expr.via}->${expr.target}: type '${a.type}' (allowed by '${expr.via}') has no relation or permission '${expr.target}'`);
          ok = false;
          continue;
        }
        targets.set(a.type, target);
      }
      return ok ? { op: 'arrow', via, target: expr.target, targets } : undefined;
    }
    case 'union':
    case 'intersection': {
      const args = expr.args.map((a) => resolve(a, typeName, types, path, errs));
      return args.every((a): a is Rewrite => a !== undefined) ? { op: expr.op, args } : undefined;
    }
    case 'exclusion': {
      const base = resolve(expr.base, typeName, types, path, errs);
      const subtract = resolve(expr.subtract, typeName, types, path, errs);
      return base && subtract ? { op: 'exclusion', base, subtract } : undefined;
    }
  }
}

/** Compile a parsed schema value. `text` and `format` are kept as the stored form. */
export function compileSchemaValue(value: unknown, text: string, format: DocumentFormat): SchemaResult {
  const errs = new Collector();
  const { types, pending } = readShape(value, errs);
  checkRelations(types, errs);
  let resolved = true;
  for (const p of pending) {
    const parts = p.parts.map((part) => resolve(part.expr, p.def.type, types, part.path, errs));
    if (parts.some((x) => x === undefined) || parts.length === 0) {
      resolved = false;
      continue;
    }
    const args = parts as Rewrite[];
    p.def.rewrite = args.length === 1 ? args[0]! : { op: 'union', args };
  }
  // Recursion is only meaningful once every name resolves.
  if (errs.errors.length === 0 && resolved) {
    for (const e of checkRecursion(types)) errs.add(e.path, e.message);
  }
  if (errs.errors.length > 0) {
    const sorted = errs.errors.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.message < b.message ? -1 : 1));
    return { ok: false, errors: sorted.slice(0, SCHEMA_LIMITS.maxErrors) };
  }
  const compiledTypes = new Map<string, CompiledType>();
  let definitionCount = 0;
  for (const [name, defs] of types) {
    compiledTypes.set(name, { name, defs });
    for (const d of defs.values()) definitionCount = Math.max(definitionCount, d.ordinal + 1);
  }
  return { ok: true, schema: { types: compiledTypes, dependents: dependentsOf(types), definitionCount, text, format } };
}

/** Compile schema text (JSON or YAML); errors carry line and column where the text has them. */
export function compileSchema(text: string, format: DocumentFormat, limits: ParseLimits = DEFAULT_PARSE_LIMITS): SchemaResult {
  const parsed = parseText(text, format, limits);
  if (!parsed.ok) return { ok: false, errors: parsed.errors };
  const doc = parsed.documents[0]!;
  const result = compileSchemaValue(doc.value, text, format);
  return result.ok ? result : { ok: false, errors: positionErrors(result.errors, doc.positions) };
}
