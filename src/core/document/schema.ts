// The JSON Schema of a policy document and its ajv validator. Unknown fields are
// refused so a typo never silently changes what a policy means.

import { Ajv, type ErrorObject } from 'ajv';
import { parsePattern } from '../pattern.js';
import { isValidKey, isValidNamespace } from '../namespace.js';
import type { DocumentError, LuaDocument, PolicyDocument } from './types.js';
import type { RegistryDocument } from '../registry/types.js';
import type { MessagesDocument } from '../messages/types.js';
import { PARAM_PATH_HELP, isParamPath } from '../messages/params.js';
import { MESSAGE_KEY_HELP, isMessageKey } from '../messages/compile-message.js';
import { isLanguageTag } from '../messages/language.js';
import type { RoutesDocument, TestsDocument } from './types.js';
import { routeListSchema } from '../forward-auth/route-table.js';
// Stored test suites share the case format of *.test.yaml files: one schema for both.
import suiteSchema from './suite.schema.json' with { type: 'json' };

const patternList = {
  type: 'array',
  maxItems: 256,
  items: { type: 'string', format: 'permission-pattern' },
} as const;

export const policyDocumentSchema = {
  $id: 'https://policy-engine.dev/schemas/policy-document.json',
  title: 'Policy document',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'rules'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    key: { type: 'string', format: 'policy-key' },
    namespace: { type: 'string', format: 'namespace' },
    kind: { const: 'policy' },
    ordinal: { type: 'number', minimum: -1e9, maximum: 1e9 },
    description: { type: 'string', maxLength: 4096 },
    disabled: { type: 'boolean' },
    predicates: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { pattern: '^[a-z_][a-z0-9_]{0,63}$' },
      additionalProperties: { type: 'string', minLength: 1, maxLength: 4096 },
    },
    rules: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['subjects'],
        anyOf: [{ required: ['grant'] }, { required: ['revoke'] }, { required: ['deny'] }],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 128 },
          subjects: {
            type: 'array',
            minItems: 1,
            maxItems: 256,
            items: { type: 'string', minLength: 1, maxLength: 512 },
          },
          when: { type: 'string', minLength: 1, maxLength: 4096 },
          lua: { type: 'string', minLength: 1, maxLength: 16384 },
          grant: patternList,
          revoke: patternList,
          deny: patternList,
          // Plain text, or { key, fallback?, params? } (SPEC §10): the object keywords apply to objects only.
          message: {
            type: ['string', 'object'],
            maxLength: 2048,
            additionalProperties: false,
            required: ['key'],
            properties: {
              key: { type: 'string', format: 'message-key' },
              fallback: { type: 'string', maxLength: 2048 },
              params: {
                type: 'object',
                maxProperties: 32,
                propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
                additionalProperties: { type: 'string', format: 'message-param' },
              },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
ajv.addFormat('permission-pattern', { type: 'string', validate: (v: string) => typeof parsePattern(v) !== 'string' });
ajv.addFormat('policy-key', { type: 'string', validate: isValidKey });
ajv.addFormat('namespace', { type: 'string', validate: (v: string) => isValidNamespace(v) });
ajv.addFormat('message-key', { type: 'string', validate: isMessageKey });
ajv.addFormat('message-param', { type: 'string', validate: isParamPath });
ajv.addFormat('language-tag', { type: 'string', validate: isLanguageTag });

const attributeDeclaration = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: ['bool', 'string', 'string_list', 'number', 'ip', 'cidr', 'datetime'] },
    required: { type: 'boolean' },
    description: { type: 'string', maxLength: 1024 },
    maxLength: { type: 'integer', minimum: 1, maximum: 1048576 },
    maxItems: { type: 'integer', minimum: 1, maximum: 10000 },
  },
} as const;

const attributeMap = {
  type: 'object',
  maxProperties: 256,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
  additionalProperties: attributeDeclaration,
} as const;

export const registryDocumentSchema = {
  $id: 'https://policy-engine.dev/schemas/registry-document.json',
  title: 'Attribute registry',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'kind'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    key: { type: 'string', format: 'policy-key' },
    namespace: { type: 'string', format: 'namespace' },
    kind: { const: 'registry' },
    description: { type: 'string', maxLength: 4096 },
    subject: attributeMap,
    context: attributeMap,
    resource: attributeMap,
    facts: attributeMap,
  },
} as const;

export const luaDocumentSchema = {
  $id: 'https://policy-engine.dev/schemas/lua-document.json',
  title: 'Lua policy document',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'kind', 'script'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    key: { type: 'string', format: 'policy-key' },
    namespace: { type: 'string', format: 'namespace' },
    kind: { const: 'lua' },
    ordinal: { type: 'number', minimum: -1e9, maximum: 1e9 },
    description: { type: 'string', maxLength: 4096 },
    disabled: { type: 'boolean' },
    script: { type: 'string', minLength: 1, maxLength: 65536 },
    reads: { type: 'array', maxItems: 64, items: { type: 'string', pattern: '^(now|(subject|context|resource)(\\.[A-Za-z_][A-Za-z0-9_]*){0,2})$' } },
    onError: { enum: ['deny', 'skip'] },
  },
} as const;

export const messagesDocumentSchema = {
  $id: 'https://policy-engine.dev/schemas/messages-document.json',
  title: 'Message catalogue',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'kind', 'language', 'messages'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    key: { type: 'string', format: 'policy-key' },
    namespace: { type: 'string', format: 'namespace' },
    kind: { const: 'messages' },
    language: { type: 'string', format: 'language-tag' },
    description: { type: 'string', maxLength: 4096 },
    messages: {
      type: 'object',
      maxProperties: 5000,
      propertyNames: { format: 'message-key' },
      additionalProperties: { type: 'string', maxLength: 2048 },
    },
  },
} as const;

/** A test suite stored beside the policies: its cases run against the stored state (impact previews). */
export const testsDocumentSchema = {
  $id: 'https://policy-engine.dev/schemas/tests-document.json',
  title: 'Stored policy test suite',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'kind', 'cases'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    key: { type: 'string', format: 'policy-key' },
    namespace: { type: 'string', format: 'namespace' },
    kind: { const: 'tests' },
    name: { type: 'string', minLength: 1, maxLength: 256 },
    description: { type: 'string', maxLength: 4096 },
    path: { $ref: '#/definitions/namespacePath', description: 'The namespace path of cases that name none.' },
    now: { $ref: '#/definitions/time' },
    defaultLanguage: { $ref: '#/definitions/language' },
    cases: { type: 'array', minItems: 1, maxItems: 1000, items: { $ref: '#/definitions/case' } },
  },
  definitions: suiteSchema.definitions,
} as const;

/** Forward-auth routes stored beside the policies (the route file's format plus a key). */
export const routesDocumentSchema = {
  $id: 'https://policy-engine.dev/schemas/routes-document.json',
  title: 'Forward-auth route table',
  type: 'object',
  additionalProperties: false,
  required: ['key', 'kind', 'routes'],
  properties: {
    $schema: { type: 'string', maxLength: 512 },
    key: { type: 'string', format: 'policy-key' },
    namespace: { type: 'string', format: 'namespace' },
    kind: { const: 'routes' },
    description: { type: 'string', maxLength: 4096 },
    routes: { ...routeListSchema, minItems: 1 },
  },
} as const;

const validatePolicy = ajv.compile<PolicyDocument>(policyDocumentSchema);
const validateRoutes = ajv.compile<RoutesDocument>(routesDocumentSchema);
const validateTests = ajv.compile<TestsDocument>(testsDocumentSchema);
const validateMessages = ajv.compile<MessagesDocument>(messagesDocumentSchema);
const validateLua = ajv.compile<LuaDocument>(luaDocumentSchema);
const validateRegistry = ajv.compile<RegistryDocument>(registryDocumentSchema);

const FORMAT_MESSAGES: Record<string, string> = {
  'permission-pattern': 'must be a permission pattern (segments of [A-Za-z0-9_./-] or *, joined by :)',
  'policy-key': "must be a key: 1-256 characters of [A-Za-z0-9_.:-], '<namespace>-<name>'",
  namespace: "must be a namespace: [A-Za-z0-9_:] and, after a ':', '-'",
  'message-key': MESSAGE_KEY_HELP,
  'message-param': PARAM_PATH_HELP,
  'language-tag': 'must be a BCP 47 language tag (de, pt-BR)',
};

/** `/rules/2/grant/0` → `rules[2].grant[0]` */
export function toFieldPath(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function describe(e: ErrorObject): DocumentError | undefined {
  const path = toFieldPath(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      return { path: path === '' ? field : `${path}.${field}`, message: 'unknown field' };
    }
    case 'required': {
      const field = String((e.params as { missingProperty: string }).missingProperty);
      return { path: path === '' ? field : `${path}.${field}`, message: 'is required' };
    }
    case 'format':
      return { path, message: FORMAT_MESSAGES[(e.params as { format: string }).format] ?? e.message ?? 'is invalid' };
    case 'propertyNames':
      if (path === 'messages') return { path, message: `message key ${JSON.stringify((e.params as { propertyName: string }).propertyName)} ${MESSAGE_KEY_HELP.replace(/^must be a message key: /, 'must be ')}` };
      if (path.endsWith('.params')) return { path, message: `parameter name ${JSON.stringify((e.params as { propertyName: string }).propertyName)} must be [A-Za-z_][A-Za-z0-9_]*` };
      if (/^(subject|context|resource|facts)/.test(path)) {
        return { path, message: `attribute name ${JSON.stringify((e.params as { propertyName: string }).propertyName)} must be [A-Za-z_][A-Za-z0-9_]*` };
      }
      return { path, message: `predicate name ${JSON.stringify((e.params as { propertyName: string }).propertyName)} must be lower_snake_case (a-z, 0-9, _)` };
    case 'anyOf':
      if (/^routes\[\d+\]\.method$/.test(path)) return { path, message: 'must be an HTTP method, a list of them, or *' };
      return { path, message: 'a rule needs at least one of grant, revoke or deny' };
    case 'type':
      if (/\.message$/.test(path)) return { path, message: 'must be a text or a reference { key, fallback?, params? }' };
      return { path, message: e.message ?? 'is invalid' };
    case 'const':
      return { path, message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}` };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

function collect(raw: ErrorObject[] | null | undefined): DocumentError[] {
  const errors: DocumentError[] = [];
  const seen = new Set<string>();
  for (const e of raw ?? []) {
    // anyOf reports each failed branch as `required` too; the anyOf message says it all.
    if (e.keyword === 'required' && e.schemaPath.includes('/anyOf/')) continue;
    // A bad property name is reported once, by its propertyNames error (which names it).
    if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue;
    const d = describe(e);
    if (!d) continue;
    const id = `${d.path}\u0000${d.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      errors.push(d);
    }
  }
  return errors;
}

/** Validate a parsed value against the policy document schema; every error, with field paths. */
export function validatePolicyDocument(value: unknown): { ok: true; document: PolicyDocument } | { ok: false; errors: DocumentError[] } {
  if (validatePolicy(value)) return { ok: true, document: value };
  return { ok: false, errors: collect(validatePolicy.errors) };
}

export function validateLuaDocument(value: unknown): { ok: true; document: LuaDocument } | { ok: false; errors: DocumentError[] } {
  if (validateLua(value)) return { ok: true, document: value };
  return { ok: false, errors: collect(validateLua.errors) };
}

export function validateMessagesDocument(value: unknown): { ok: true; document: MessagesDocument } | { ok: false; errors: DocumentError[] } {
  if (validateMessages(value)) return { ok: true, document: value };
  return { ok: false, errors: collect(validateMessages.errors) };
}

export function validateRegistryDocument(value: unknown): { ok: true; document: RegistryDocument } | { ok: false; errors: DocumentError[] } {
  if (validateRegistry(value)) return { ok: true, document: value };
  return { ok: false, errors: collect(validateRegistry.errors) };
}

export function validateTestsDocument(value: unknown): { ok: true; document: TestsDocument } | { ok: false; errors: DocumentError[] } {
  if (validateTests(value)) return { ok: true, document: value };
  return { ok: false, errors: collect(validateTests.errors) };
}

export function validateRoutesDocument(value: unknown): { ok: true; document: RoutesDocument } | { ok: false; errors: DocumentError[] } {
  if (validateRoutes(value)) return { ok: true, document: value };
  return { ok: false, errors: collect(validateRoutes.errors) };
}

/** The kind a parsed value declares ('policy' when it names none). */
export function kindOf(value: unknown): string {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === undefined ? 'policy' : typeof kind === 'string' ? kind : '';
}
