// Request inputs against the registry: a wrong type, a missing required attribute or
// a broken limit is a 400 naming the attribute. Attributes the registry does not
// declare are let through (conditions cannot read them: they are refused when written).
// Returns the inputs converted for CEL (datetimes as Date, numbers as doubles).

import { isIP } from 'node:net';
import type { AttributeDeclaration, AttributeScope, CompiledRegistry } from './types.js';

export interface InputProblem {
  attribute: string;
  message: string;
}

const CIDR = /^([^/]+)\/(\d{1,3})$/;

export function checkAttribute(value: unknown, decl: AttributeDeclaration): string | undefined {
  switch (decl.type) {
    case 'bool':
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      return decl.maxLength !== undefined && value.length > decl.maxLength ? `must be at most ${decl.maxLength} characters` : undefined;
    case 'string_list':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return 'must be a list of strings';
      if (decl.maxItems !== undefined && value.length > decl.maxItems) return `must have at most ${decl.maxItems} items`;
      if (decl.maxLength !== undefined && value.some((v: string) => v.length > decl.maxLength!)) return `items must be at most ${decl.maxLength} characters`;
      return undefined;
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0 ? undefined : 'must be an IPv4 or IPv6 address';
    case 'cidr': {
      const m = typeof value === 'string' ? CIDR.exec(value) : null;
      const family = m ? isIP(m[1]!) : 0;
      return family !== 0 && Number(m![2]) <= (family === 4 ? 32 : 128) ? undefined : 'must be a CIDR block such as 10.0.0.0/8';
    }
    case 'datetime':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'must be an ISO-8601 date-time';
  }
}

function convert(value: unknown, decl: AttributeDeclaration): unknown {
  return decl.type === 'datetime' ? new Date(value as string) : value;
}

/** Check one scope's attributes; returns the converted object, or problems. */
export function validateScope(
  registry: CompiledRegistry,
  scope: AttributeScope,
  values: Readonly<Record<string, unknown>> | undefined,
  prefix: string,
  problems: InputProblem[],
): Record<string, unknown> {
  const decls = registry.scopes[scope];
  const out: Record<string, unknown> = { ...(values ?? {}) };
  for (const [name, decl] of decls) {
    const present = values !== undefined && Object.hasOwn(values, name) && values[name] !== null && values[name] !== undefined;
    if (!present) {
      if (decl.required) problems.push({ attribute: `${prefix}.${name}`, message: 'is required' });
      delete out[name];
      continue;
    }
    const problem = checkAttribute(values![name], decl);
    if (problem) problems.push({ attribute: `${prefix}.${name}`, message: problem });
    else out[name] = convert(values![name], decl);
  }
  return out;
}
