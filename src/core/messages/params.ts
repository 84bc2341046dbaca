// Placeholder parameters name request values by path — `subject.id`,
// `subject.attributes.x`, `resource.id|type|attributes.x`, `context.x`, `facts.x` — and
// are checked when written. Resolving one only follows own properties, so no path can
// reach a prototype (`context.constructor` is a missing value unless the request sent it).

import type { ParamPath } from './types.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** attribute and context paths may go this many names deep below their root */
const MAX_DEPTH = 4;

export const PARAM_PATH_HELP = 'must be a request value path: subject.id, subject.attributes.<name>, resource.id, resource.type, resource.attributes.<name>, context.<name> or facts.<name>';

/** A parameter path, or undefined when it is not one. */
export function parseParamPath(text: string): ParamPath | undefined {
  if (typeof text !== 'string' || text.length > 256) return undefined;
  const [root, ...rest] = text.split('.');
  if (!rest.every((n) => NAME.test(n))) return undefined;
  const deep = (from: number) => rest.length > from && rest.length <= from + MAX_DEPTH;
  switch (root) {
    case 'subject':
      if ((rest.length === 1 && rest[0] === 'id') || (rest[0] === 'attributes' && deep(1))) return { text, root, path: rest };
      return undefined;
    case 'resource':
      if ((rest.length === 1 && (rest[0] === 'id' || rest[0] === 'type')) || (rest[0] === 'attributes' && deep(1))) return { text, root, path: rest };
      return undefined;
    case 'context':
      return deep(0) ? { text, root, path: rest } : undefined;
    case 'facts':
      return rest.length === 1 ? { text, root, path: rest } : undefined;
    default:
      return undefined;
  }
}

export function isParamPath(text: string): boolean {
  return parseParamPath(text) !== undefined;
}

/** The request values messages read. */
export interface MessageInputs {
  readonly subject: { readonly id: string; readonly attributes?: Readonly<Record<string, unknown>> };
  readonly resource?: { readonly type?: string; readonly id?: string; readonly attributes?: Readonly<Record<string, unknown>> };
  readonly context?: Readonly<Record<string, unknown>>;
  readonly facts?: Readonly<Record<string, unknown>>;
}

/** The value at a path (undefined when any step is missing or not an own property). */
export function resolveParam(p: ParamPath, inputs: MessageInputs): unknown {
  let cur: unknown = inputs[p.root];
  for (const name of p.path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  return cur;
}
