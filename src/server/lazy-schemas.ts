// Route schemas compiled on a route's first request, not at start-up. Fastify compiles
// every route's validators (ajv) and response serializers (fast-json-stringify) while the
// server starts: generated source, its compiled code and ajv's schema objects for ~80
// routes, most of which a sidecar never serves. These builders wrap fastify's own default
// ones (same packages, same options, same functions once compiled); each wrapped function
// compiles its schema the first time it is called (or asked for ajv's `schemaEnv`).

import { createRequire } from 'node:module';

interface Validate {
  (this: unknown, data: unknown, context?: unknown): unknown;
  errors?: unknown;
  schemaEnv?: unknown;
}
type RouteSchema = { schema: unknown; method?: string; url?: string; httpPart?: string };
type Compiler<F> = (route: RouteSchema) => F;
type Builder<F> = (externalSchemas: unknown, options: unknown) => Compiler<F>;

// Fastify's defaults, resolved from fastify itself (its dependencies, its versions).
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const defaults = () => ({
  validator: (fromFastify('@fastify/ajv-compiler') as () => Builder<Validate>)(),
  serializer: (fromFastify('@fastify/fast-json-stringify-compiler') as () => Builder<(data: unknown) => string>)(),
});

/** A validator that compiles on first use; `errors` and `schemaEnv` read the compiled one's. */
export function lazyValidator(compile: () => Validate): Validate {
  let compiled: Validate | undefined;
  const get = () => (compiled ??= compile());
  const validate: Validate = function (this: unknown, data: unknown, context?: unknown) {
    return context === undefined ? get().call(this, data) : get().call(this, data, context);
  };
  Object.defineProperties(validate, {
    errors: { get: () => compiled?.errors, set: (v: unknown) => { get().errors = v; } },
    schemaEnv: { get: () => get().schemaEnv },
  });
  return validate;
}

/** A serializer that compiles on first use. */
export function lazySerializer(compile: () => (data: unknown) => string): (data: unknown) => string {
  let compiled: ((data: unknown) => string) | undefined;
  return (data) => (compiled ??= compile())(data);
}

/**
 * Fastify's `schemaController.compilersFactory`, lazy. Fastify treats a supplied validator
 * builder as custom, and then passes a `headers` schema as written instead of lower-casing
 * its keys: so a headers schema with a key that is not lower case is refused here, at start.
 */
export function lazyCompilersFactory(): { buildValidator: Builder<Validate>; buildSerializer: Builder<(data: unknown) => string> } {
  const d = defaults();
  return {
    buildValidator: (externalSchemas, options) => {
      const compiler = d.validator(externalSchemas, options);
      return (route) => {
        if (route.httpPart === 'headers') assertLowerCaseHeaders(route);
        return lazyValidator(() => compiler(route));
      };
    },
    buildSerializer: (externalSchemas, options) => {
      const compiler = d.serializer(externalSchemas, options);
      return (route) => lazySerializer(() => compiler(route));
    },
  };
}

function assertLowerCaseHeaders(route: RouteSchema): void {
  const s = route.schema as { properties?: Record<string, unknown>; required?: string[] } | null;
  const keys = [...Object.keys(s?.properties ?? {}), ...(s?.required ?? [])];
  const bad = keys.find((k) => k !== k.toLowerCase());
  if (bad !== undefined) throw new Error(`${route.method} ${route.url}: header schema key ${JSON.stringify(bad)} must be lower case`);
}
