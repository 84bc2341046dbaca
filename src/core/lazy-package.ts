// A package loaded on its first use rather than when the server starts: parsers and
// engines (YAML, RE2, Lua's parser, CEL, JOSE) that an idle or small deployment may never
// run cost ~1 MiB of heap each once imported. Loaded with `require` (Node ≥ 20.19 loads an
// ES module package that way too, sharing the instance `import` gives); synchronous, so
// callers stay as they were; their types are type-only imports.

import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** The package `id`, loaded on the first call. */
export function lazyPackage<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(id) as T);
}
