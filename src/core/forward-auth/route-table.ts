// The forward-auth route table (SPEC §12, docs/gateways.md): which original request
// (method + path template) asks which question (namespace path template, permission,
// resource). Compiled once, every error collected; a template that could let a request
// reach another namespace than the one its path names (traversal, encoded separators,
// a placeholder the path does not bind) is refused here, before any request.

import { Ajv } from 'ajv';
import { isConcretePermission } from '../pattern.js';
import type { DocumentError, RouteSpec } from '../document/types.js';

export type { RouteSpec };

export interface RouteTableDocument {
  kind: 'routes';
  routes: RouteSpec[];
}

/** A template's parts: literal text and placeholders, in order. */
export type TemplatePart = { text: string } | { param: string };

export interface CompiledRoute {
  /** index in the table (routes are tried in order; the first match wins) */
  index: number;
  /** undefined: any method */
  methods?: ReadonlySet<string>;
  /** per path segment: a literal (compared after percent-decoding) or a placeholder */
  segments: ReadonlyArray<{ literal: string } | { param: string }>;
  namespace: readonly TemplatePart[];
  permission: string;
  resource?: { type: string; id: readonly TemplatePart[] };
  /** as written, for reasons and logs */
  spec: RouteSpec;
  /** where it comes from, for reasons: `route 2` (the file) or `route 2 of global-routes-api` */
  label: string;
}

export interface RouteTable {
  routes: readonly CompiledRoute[];
}

/** Most routes one table may hold: a linear match stays cheap. */
export const MAX_ROUTES = 1000;

const METHOD = /^[A-Z]{1,16}$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// A literal path segment: unreserved and sub-delims of RFC 3986, no `%` (no encoded
// tricks in templates), never `.` or `..` alone.
const LITERAL_SEGMENT = /^[A-Za-z0-9_~!$&'()*+,;=:@.-]{1,256}$/;
// Outside placeholders, a namespace template may hold what a namespace path may.
const NAMESPACE_TEXT = /^[A-Za-z0-9_:.-]*$/;
const RESOURCE_TYPE = /^[A-Za-z0-9_.-]{1,128}$/;

/** The `routes` list of a route table, the file's and a stored `kind: routes` document's alike. */
export const routeListSchema = {
  type: 'array',
  maxItems: MAX_ROUTES,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['method', 'path', 'namespace', 'permission'],
    properties: {
      method: { anyOf: [{ type: 'string', maxLength: 16 }, { type: 'array', minItems: 1, maxItems: 16, items: { type: 'string', maxLength: 16 } }] },
      path: { type: 'string', minLength: 1, maxLength: 2048 },
      namespace: { type: 'string', minLength: 1, maxLength: 8192 },
      permission: { type: 'string', minLength: 1, maxLength: 1100 },
      resource: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
} as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'routes'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    kind: { const: 'routes' },
    description: { type: 'string', maxLength: 4096 },
    routes: routeListSchema,
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile<RouteTableDocument>(schema);

/** `a{x}b{y}` → parts; undefined when braces are unbalanced or a name is invalid. */
export function parseTemplate(text: string): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    const close = text.indexOf('}', i);
    if (close !== -1 && (open === -1 || close < open)) return `unbalanced '}' at ${close}`;
    if (open === -1) {
      parts.push({ text: text.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: text.slice(i, open) });
    const end = text.indexOf('}', open);
    if (end === -1) return `unclosed '{' at ${open}`;
    const name = text.slice(open + 1, end);
    if (!PARAM_NAME.test(name)) return `placeholder {${name.slice(0, 64)}} must be a name ([A-Za-z_][A-Za-z0-9_]*)`;
    parts.push({ param: name });
    i = end + 1;
  }
  return parts;
}

function compilePath(path: string, where: string, errors: DocumentError[]): CompiledRoute['segments'] | undefined {
  if (!path.startsWith('/')) {
    errors.push({ path: `${where}.path`, message: `must start with /` });
    return undefined;
  }
  if (/[?#%\\]/.test(path)) {
    errors.push({ path: `${where}.path`, message: `must not hold ?, #, % or \\ (query, fragment, percent-encoding and backslashes are never part of a template)` });
    return undefined;
  }
  const segments: Array<{ literal: string } | { param: string }> = [];
  const seen = new Set<string>();
  const raw = path === '/' ? [] : path.slice(1).split('/');
  for (const [i, s] of raw.entries()) {
    const m = /^\{([^{}]*)\}$/.exec(s);
    if (m) {
      if (!PARAM_NAME.test(m[1]!)) {
        errors.push({ path: `${where}.path`, message: `segment ${i + 1}: placeholder {${m[1]!.slice(0, 64)}} must be a name ([A-Za-z_][A-Za-z0-9_]*)` });
        return undefined;
      }
      if (seen.has(m[1]!)) {
        errors.push({ path: `${where}.path`, message: `placeholder {${m[1]}} appears twice` });
        return undefined;
      }
      seen.add(m[1]!);
      segments.push({ param: m[1]! });
      continue;
    }
    if (s === '.' || s === '..') {
      errors.push({ path: `${where}.path`, message: `segment ${i + 1}: '.' and '..' (traversal) are not allowed` });
      return undefined;
    }
    if (!LITERAL_SEGMENT.test(s)) {
      errors.push({ path: `${where}.path`, message: `segment ${i + 1} ${JSON.stringify(s.slice(0, 64))}: ${s === '' ? 'empty segments (//, a trailing /) are not allowed' : 'a placeholder fills a whole segment; literals are [A-Za-z0-9_~!$&\'()*+,;=:@.-]'}` });
      return undefined;
    }
    segments.push({ literal: s });
  }
  return segments;
}

function boundParams(parts: readonly TemplatePart[], bound: ReadonlySet<string>, where: string, errors: DocumentError[]): boolean {
  for (const p of parts) {
    if ('param' in p && !bound.has(p.param)) {
      errors.push({ path: `${where}`, message: `placeholder {${p.param}} is not bound by the path` });
      return false;
    }
  }
  return true;
}

/** A route table document (parsed YAML or JSON) → compiled routes, or every problem found. */
export function compileRouteTable(value: unknown): { ok: true; table: RouteTable } | { ok: false; errors: string[] } {
  if (!validate(value)) {
    return { ok: false, errors: (validate.errors ?? []).slice(0, 50).map((e) => `${e.instancePath || '(document)'}: ${e.message ?? 'is invalid'}`) };
  }
  const compiled = compileRoutes(value.routes);
  return compiled.ok ? compiled : { ok: false, errors: compiled.errors.map((e) => `${e.path}: ${e.message}`) };
}

/**
 * Schema-checked routes → compiled routes, or every problem with its field path
 * (`routes[2].path`). `source` names a stored `kind: routes` document in reasons.
 */
export function compileRoutes(specs: readonly RouteSpec[], source?: string): { ok: true; table: RouteTable } | { ok: false; errors: DocumentError[] } {
  const errors: DocumentError[] = [];
  const routes: CompiledRoute[] = [];
  for (const [index, spec] of specs.entries()) {
    const where = `routes[${index}]`;
    const before = errors.length;
    const list = Array.isArray(spec.method) ? spec.method : [spec.method];
    let methods: Set<string> | undefined = new Set();
    for (const m of list) {
      if (m === '*') methods = undefined;
      else if (!METHOD.test(m)) errors.push({ path: `${where}.method`, message: `${JSON.stringify(m)} is not an HTTP method (upper case letters) or *` });
      else methods?.add(m);
    }
    const segments = compilePath(spec.path, where, errors);
    const bound = new Set(segments?.flatMap((s) => ('param' in s ? [s.param] : [])) ?? []);
    const namespace = parseTemplate(spec.namespace);
    if (typeof namespace === 'string') errors.push({ path: `${where}.namespace`, message: `${namespace}` });
    else {
      boundParams(namespace, bound, `${where}.namespace`, errors);
      for (const p of namespace) {
        if ('text' in p && !NAMESPACE_TEXT.test(p.text)) errors.push({ path: `${where}.namespace`, message: `${JSON.stringify(p.text.slice(0, 64))} holds characters a namespace path never has` });
      }
    }
    if (!isConcretePermission(spec.permission)) errors.push({ path: `${where}.permission`, message: `must be a concrete permission (segments of [A-Za-z0-9_./-] joined by ':', no '*')` });
    let resource: CompiledRoute['resource'];
    if (spec.resource !== undefined) {
      const colon = spec.resource.indexOf(':');
      const type = colon === -1 ? '' : spec.resource.slice(0, colon);
      const id = parseTemplate(colon === -1 ? '' : spec.resource.slice(colon + 1));
      if (!RESOURCE_TYPE.test(type)) errors.push({ path: `${where}.resource`, message: `must be type:id with a literal type ([A-Za-z0-9_.-]), e.g. document:{doc}` });
      else if (typeof id === 'string') errors.push({ path: `${where}.resource`, message: `${id}` });
      else if (id.length === 0) errors.push({ path: `${where}.resource`, message: `the id is empty` });
      else if (boundParams(id, bound, `${where}.resource`, errors)) resource = { type, id };
    }
    if (errors.length === before) {
      const label = source === undefined ? `route ${index + 1}` : `route ${index + 1} of ${source}`;
      routes.push({ index, ...(methods ? { methods } : {}), segments: segments!, namespace: namespace as TemplatePart[], permission: spec.permission, ...(resource ? { resource } : {}), spec, label });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, table: { routes } };
}

/** `GET /orgs/{}/documents/{}`: a route's method set and path shape (placeholder names do not matter). */
function shapeOf(route: CompiledRoute): string {
  return '/' + route.segments.map((s) => ('literal' in s ? s.literal : '{}')).join('/');
}

function methodsOverlap(a: CompiledRoute, b: CompiledRoute): boolean {
  if (!a.methods || !b.methods) return true;
  for (const m of a.methods) if (b.methods.has(m)) return true;
  return false;
}

/**
 * Routes of `table` that another route source already has: the same path template
 * (literals equal, placeholders at the same places, whatever their names) with a method
 * in common (`*` shares every method). Such a route would never decide for those
 * methods (the earlier source wins), so a stored document holding one is refused.
 */
export function routeDuplicates(table: RouteTable, others: ReadonlyArray<{ name: string; table: RouteTable }>): DocumentError[] {
  const errors: DocumentError[] = [];
  const byShape = new Map<string, Array<{ name: string; route: CompiledRoute }>>();
  for (const o of others) {
    for (const route of o.table.routes) {
      const shape = shapeOf(route);
      let list = byShape.get(shape);
      if (!list) byShape.set(shape, (list = []));
      list.push({ name: o.name, route });
    }
  }
  for (const route of table.routes) {
    const clash = byShape.get(shapeOf(route))?.find((o) => methodsOverlap(route, o.route));
    if (!clash) continue;
    const methods = route.methods ? [...route.methods].join(',') : '*';
    errors.push({ path: `routes[${route.index}]`, message: `${methods} ${route.spec.path} duplicates route ${clash.route.index + 1} of ${clash.name} (${clash.route.spec.path}); the first route source would always decide` });
  }
  return errors;
}
