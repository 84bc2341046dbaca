// A rule's `message` (or a script's) → its compiled form: plain text stays text; a
// reference gets its fallback parsed and its parameter paths checked.

import type { DocumentError } from '../document/types.js';
import { PARAM_PATH_HELP, parseParamPath } from './params.js';
import { parseTemplate } from './template.js';
import type { ParamPath, RuleMessage, RuleMessageDocument } from './types.js';

export const MESSAGE_KEY = /^[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,15}$/;
export const MESSAGE_KEY_HELP = 'must be a message key: names of [A-Za-z0-9_-] joined by dots (policy.documents.purge_needs_admin)';
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_TEXT = 2048;
const MAX_PARAMS = 32;

export function isMessageKey(key: string): boolean {
  return typeof key === 'string' && key.length <= 256 && MESSAGE_KEY.test(key);
}

/** Compile a schema-valid message; `errors` collects problems under `path`. */
export function compileMessage(message: RuleMessageDocument, path: string, errors: DocumentError[]): RuleMessage {
  if (typeof message === 'string') return message;
  if (!isMessageKey(message.key)) errors.push({ path: `${path}.key`, message: MESSAGE_KEY_HELP });
  const params = new Map<string, ParamPath>();
  for (const [name, text] of Object.entries(message.params ?? {})) {
    const p = parseParamPath(text);
    if (!PARAM_NAME.test(name)) errors.push({ path: `${path}.params`, message: `parameter name ${JSON.stringify(name.slice(0, 80))} must be [A-Za-z_][A-Za-z0-9_]*` });
    else if (!p) errors.push({ path: `${path}.params.${name}`, message: PARAM_PATH_HELP });
    else params.set(name, p);
  }
  return { key: message.key, fallback: message.fallback === undefined ? undefined : parseTemplate(message.fallback), params };
}

/**
 * A message a script returned: a string, or a table `{ key, fallback?, params? }`.
 * Throws on anything else (the script's run then fails, which never grants).
 */
export function compileScriptMessage(value: unknown): RuleMessage | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.slice(0, MAX_TEXT);
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('message must be a string or a table { key = …, fallback = … }');
  const t = value as Record<string, unknown>;
  for (const k of Object.keys(t)) if (!['key', 'fallback', 'params'].includes(k)) throw new Error(`unknown field ${k.slice(0, 64)} in the message table`);
  if (typeof t.key !== 'string' || !isMessageKey(t.key)) throw new Error(`message.key ${MESSAGE_KEY_HELP}`);
  if (t.fallback !== undefined && typeof t.fallback !== 'string') throw new Error('message.fallback must be a string');
  const params = t.params ?? {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new Error('message.params must be a table of name = "path"');
  const entries = Object.entries(params);
  if (entries.length > MAX_PARAMS) throw new Error(`message.params has more than ${MAX_PARAMS} entries`);
  if (!entries.every(([, v]) => typeof v === 'string')) throw new Error('message.params values must be strings');
  const errors: DocumentError[] = [];
  const compiled = compileMessage({ key: t.key, fallback: typeof t.fallback === 'string' ? t.fallback.slice(0, MAX_TEXT) : undefined, params: params as Record<string, string> }, 'message', errors);
  if (errors.length > 0) throw new Error(`${errors[0]!.path}: ${errors[0]!.message}`);
  return compiled;
}
