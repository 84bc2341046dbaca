// The forward-auth route table (SPEC §12, docs/gateways.md): which original request
// (method + path template) asks which question (namespace path template, permission,
// resource). Compiled once, every error collected; a template that could let a request
// reach another namespace than the one its path names (traversal, encoded separators,
// a placeholder the path does not bind) is refused here, before any request.

import { Ajv } from 'ajv';
import { isConcretePermission } from '../pattern.js';

export interface RouteSpec {
  /** one method, several, or `*` (any) */
  method: string | string[];
  /** `/orgs/{org}/documents/{doc}`: literal segments and whole-segment placeholders */
  path: string;
  /** the namespace path to check in; may use the path's placeholders: `global.org.org:{org}` */
  namespace: string;
  /** the concrete permission to check */
  permission: string;
  /** `type:{id}`: the resource the check is about (optional) */
  resource?: string;
}

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

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'routes'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    kind: { const: 'routes' },
    description: { type: 'string', maxLength: 4096 },
    routes: {
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
    },
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

function compilePath(path: string, where: string, errors: string[]): CompiledRoute['segments'] | undefined {
  if (!path.startsWith('/')) {
    errors.push(`${where}.path: must start with /`);
    return undefined;
  }
  if (/[?#%\\]/.test(path)) {
    errors.push(`${where}.path: must not hold ?, #, % or \\ (query, fragment, percent-encoding and backslashes are never part of a template)`);
    return undefined;
  }
  const segments: Array<{ literal: string } | { param: string }> = [];
  const seen = new Set<string>();
  const raw = path === '/' ? [] : path.slice(1).split('/');
  for (const [i, s] of raw.entries()) {
    const m = /^\{([^{}]*)\}$/.exec(s);
    if (m) {
      if (!PARAM_NAME.test(m[1]!)) {
        errors.push(`${where}.path: segment ${i + 1}: placeholder {${m[1]!.slice(0, 64)}} must be a name ([A-Za-z_][A-Za-z0-9_]*)`);
        return undefined;
      }
      if (seen.has(m[1]!)) {
        errors.push(`${where}.path: placeholder {${m[1]}} appears twice`);
        return undefined;
      }
      seen.add(m[1]!);
      segments.push({ param: m[1]! });
      continue;
    }
    if (s === '.' || s === '..') {
      errors.push(`${where}.path: segment ${i + 1}: '.' and '..' (traversal) are not allowed`);
      return undefined;
    }
    if (!LITERAL_SEGMENT.test(s)) {
      errors.push(`${where}.path: segment ${i + 1} ${JSON.stringify(s.slice(0, 64))}: ${s === '' ? 'empty segments (//, a trailing /) are not allowed' : 'a placeholder fills a whole segment; literals are [A-Za-z0-9_~!$&\'()*+,;=:@.-]'}`);
      return undefined;
    }
    segments.push({ literal: s });
  }
  return segments;
}

function boundParams(parts: readonly TemplatePart[], bound: ReadonlySet<string>, where: string, errors: string[]): boolean {
  for (const p of parts) {
    if ('param' in p && !bound.has(p.param)) {
      errors.push(`${where}: placeholder {${p.param}} is not bound by the path`);
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
  const errors: string[] = [];
  const routes: CompiledRoute[] = [];
  for (const [index, spec] of value.routes.entries()) {
    const where = `routes[${index}]`;
    const before = errors.length;
    const list = Array.isArray(spec.method) ? spec.method : [spec.method];
    let methods: Set<string> | undefined = new Set();
    for (const m of list) {
      if (m === '*') methods = undefined;
      else if (!METHOD.test(m)) errors.push(`${where}.method: ${JSON.stringify(m)} is not an HTTP method (upper case letters) or *`);
      else methods?.add(m);
    }
    const segments = compilePath(spec.path, where, errors);
    const bound = new Set(segments?.flatMap((s) => ('param' in s ? [s.param] : [])) ?? []);
    const namespace = parseTemplate(spec.namespace);
    if (typeof namespace === 'string') errors.push(`${where}.namespace: ${namespace}`);
    else {
      boundParams(namespace, bound, `${where}.namespace`, errors);
      for (const p of namespace) {
        if ('text' in p && !NAMESPACE_TEXT.test(p.text)) errors.push(`${where}.namespace: ${JSON.stringify(p.text.slice(0, 64))} holds characters a namespace path never has`);
      }
    }
    if (!isConcretePermission(spec.permission)) errors.push(`${where}.permission: must be a concrete permission (segments of [A-Za-z0-9_./-] joined by ':', no '*')`);
    let resource: CompiledRoute['resource'];
    if (spec.resource !== undefined) {
      const colon = spec.resource.indexOf(':');
      const type = colon === -1 ? '' : spec.resource.slice(0, colon);
      const id = parseTemplate(colon === -1 ? '' : spec.resource.slice(colon + 1));
      if (!RESOURCE_TYPE.test(type)) errors.push(`${where}.resource: must be type:id with a literal type ([A-Za-z0-9_.-]), e.g. document:{doc}`);
      else if (typeof id === 'string') errors.push(`${where}.resource: ${id}`);
      else if (id.length === 0) errors.push(`${where}.resource: the id is empty`);
      else if (boundParams(id, bound, `${where}.resource`, errors)) resource = { type, id };
    }
    if (errors.length === before) {
      routes.push({ index, ...(methods ? { methods } : {}), segments: segments!, namespace: namespace as TemplatePart[], permission: spec.permission, ...(resource ? { resource } : {}), spec });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, table: { routes } };
}
