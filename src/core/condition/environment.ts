// The CEL environment conditions are checked and run in (via @marcbachmann/cel-js:
// ~10× faster than @bufbuild/cel here, with a type checker and parse limits). Variables:
// subject, context, resource, namespace, now; named predicates join as bools.

import type { Environment } from '@marcbachmann/cel-js';
import { lazyPackage } from '../lazy-package.js';
import { hasAll, hasAny, inCidr, inTimeWindow, isIpAddress, timeOfDay } from './helpers.js';
import { registerRelated } from './related.js';
import { celTypeOf, type AttributeDeclaration, type CompiledRegistry } from '../registry/types.js';

/** Parse-time bounds on every expression: the cost of a condition is bounded by its shape. */
export const CONDITION_LIMITS = {
  maxAstNodes: 400,
  maxDepth: 24,
  maxListElements: 100,
  maxMapEntries: 50,
  maxCallArguments: 8,
};

export const ROOT_VARIABLES = ['subject', 'context', 'resource', 'ns', 'facts', 'now'] as const;

const TIMESTAMP = 'google.protobuf.Timestamp';

function helpers(env: Environment): Environment {
  return registerRelated(env)
    .registerFunction('inCidr(string, string): bool', inCidr, { description: 'is the IP address inside the CIDR block' })
    .registerFunction('isIp(string): bool', isIpAddress, { description: 'is the string an IPv4 or IPv6 address' })
    .registerFunction(`timeOfDay(${TIMESTAMP}, string): string`, timeOfDay, { description: '"HH:MM" in the IANA time zone' })
    .registerFunction(`inTimeWindow(${TIMESTAMP}, string, string, string): bool`, inTimeWindow, { description: 'time of day within ["HH:MM", "HH:MM") in a time zone' })
    .registerFunction('hasAny(list, list): bool', hasAny, { description: 'does the first list hold any element of the second' })
    .registerFunction('hasAll(list, list): bool', hasAll, { description: 'does the first list hold every element of the second' });
}

// cel-js is loaded with the first environment, i.e. the first condition compiled.
const celJs = lazyPackage<typeof import('@marcbachmann/cel-js')>('@marcbachmann/cel-js');

const OPTIONS = { unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: true, limits: CONDITION_LIMITS };

let untyped: Environment | undefined;

/** Without a registry every input is a dynamic map: conditions are checked for syntax and known names. */
function untypedEnvironment(): Environment {
  untyped ??= helpers(new (celJs().Environment)(OPTIONS)
    .registerVariable('subject', 'map', { description: 'id, roles, groups, attributes' })
    .registerVariable('context', 'map', { description: 'the request context' })
    .registerVariable('resource', 'map', { description: 'type, id, attributes' })
    .registerVariable('ns', 'map', { description: 'the namespace being run: name (of the document) and path (list); CEL reserves the word namespace' })
    .registerVariable('facts', 'map', { description: 'facts emitted by Lua scripts run earlier in the path' })
    .registerVariable('now', TIMESTAMP, { description: 'the time of the evaluation' }));
  return untyped;
}

function schemaOf(decls: ReadonlyMap<string, AttributeDeclaration>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, d] of decls) out[name] = celTypeOf(d.type);
  return out;
}

/** Typed environments, one per registry version (registries change rarely). */
const typed = new WeakMap<CompiledRegistry, Environment>();

function typedEnvironment(registry: CompiledRegistry): Environment {
  let env = typed.get(registry);
  if (env) return env;
  const { subject, context, resource, facts } = registry.scopes;
  env = helpers(new (celJs().Environment)(OPTIONS)
    .registerVariable({ name: 'subject', schema: { id: 'string', roles: 'list<string>', groups: 'list<string>', attributes: schemaOf(subject) } })
    .registerVariable({ name: 'context', schema: schemaOf(context) })
    .registerVariable({ name: 'resource', schema: { type: 'string', id: 'string', attributes: schemaOf(resource) } })
    .registerVariable({ name: 'ns', schema: { name: 'string', path: 'list<string>' } })
    .registerVariable({ name: 'facts', schema: schemaOf(facts) })
    .registerVariable('now', TIMESTAMP, { description: 'the time of the evaluation' }));
  typed.set(registry, env);
  return env;
}

/** An environment where the given predicate names are boolean variables; typed by the registry when there is one. */
export function conditionEnvironment(predicateNames: readonly string[], registry?: CompiledRegistry): Environment {
  const env = (registry ? typedEnvironment(registry) : untypedEnvironment()).clone();
  for (const name of predicateNames) env.registerVariable(name, 'bool', { description: 'named predicate' });
  return env;
}
