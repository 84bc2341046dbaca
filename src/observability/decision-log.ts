// Decision logs (SPEC §7): one pino line per decision (evaluate, check, each AuthZEN
// evaluation, forward-auth, and one per plan, search or relationship check), for audit and debugging,
// sampled and redacted as configured. The caller asks `sampled()` first, so a request
// that is not logged costs one random number and nothing is built for it.

import type { Decision, Reason } from '../core/evaluate/types.js';
import type { CheckRequest, CheckResponse, EvaluateResponse, SubjectInput } from '../core/request.js';
import { symbols } from 'pino';
import { KeyRedactor } from './redaction.js';

export interface DecisionLogOptions {
  enabled: boolean;
  /** fraction of decisions logged, 0..1 */
  sample: number;
  /** keys of attributes and context (any depth) whose values are replaced, on top of the built-in list (redaction.ts) */
  redact: readonly string[];
  /** false drops subject / resource attributes and the context from the line */
  attributes: boolean;
  /** longest list (permissions, denied, policies, roles…) written in one line */
  maxItems?: number;
  /** a number in [0, 1); injectable for tests */
  random?: () => number;
}

/** The part of a pino logger this needs. */
export interface DecisionLogSink {
  child(bindings: Record<string, unknown>): DecisionLogSink;
  info(obj: object, msg: string): void;
  isLevelEnabled?(level: string): boolean;
}

/**
 * authzen and forward-auth requests are checks of one permission; the others answer
 * without a Decision (their `summary`): `plan` and `relations-plan` (a query plan),
 * `relations-check` (one relationship check), `authzen-search` (subject, resource or action search).
 */
export type DecisionLogEndpoint = 'evaluate' | 'check' | 'authzen' | 'forward-auth' | 'relations-check' | 'plan' | 'relations-plan' | 'authzen-search';

export interface DecisionEvent {
  endpoint: DecisionLogEndpoint;
  requestId: string;
  /** returned to the caller (X-Decision-Id, `decisionId`): what an audit looks a decision up by */
  decisionId: string;
  /** the request body as validated by the route schema (as a check: a subject search names no subject) */
  request: Omit<CheckRequest, 'subject'> & { subject?: SubjectInput };
  decision?: Decision;
  /** what a route that decides without a Decision answered (kind, counts…): the line's `decision` */
  summary?: Record<string, unknown>;
  response?: EvaluateResponse | CheckResponse;
  error?: unknown;
  latencyUs: number;
}

export interface DecisionLog {
  /** Is this request logged? Ask before doing any work for the line. */
  sampled(): boolean;
  write(event: DecisionEvent): void;
}

export const REDACTED = '[redacted]';
const DEFAULT_MAX_ITEMS = 20;
// Attributes and context are copied into the line within these bounds, so a line stays
// small whatever a request carries (bodies may be up to BODY_LIMIT, and deep).
const MAX_DEPTH = 8;
const MAX_ENTRIES = 50;
const MAX_STRING = 512;

function first<T>(list: readonly T[], max: number): T[] {
  return list.length <= max ? list.slice() : list.slice(0, max);
}

/** A bounded copy of a JSON value, with the values of the keys `keys` matches replaced. */
export function boundedCopy(value: unknown, keys: KeyRedactor, depth: number): unknown {
  if (typeof value === 'string') return value.length <= MAX_STRING ? value : `${value.slice(0, MAX_STRING)}…`;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const out = value.slice(0, MAX_ENTRIES).map((v) => boundedCopy(v, keys, depth + 1));
    if (value.length > MAX_ENTRIES) out.push(`[${value.length - MAX_ENTRIES} more]`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    if (n++ === MAX_ENTRIES) {
      out['…'] = `[${Object.keys(value).length - MAX_ENTRIES} more keys]`;
      break;
    }
    out[k] = keys.matches(k) ? REDACTED : boundedCopy((value as Record<string, unknown>)[k], keys, depth + 1);
  }
  return out;
}

/** What a line says about a reason: who decided and the message key, never the rendered text (it may carry request values). */
function reasonOf(r: Reason): Record<string, string> {
  return { rule: r.rule, document: r.document, ...(r.key !== undefined ? { key: r.key } : {}) };
}

function reasonsOf(reasons: Record<string, Reason> | undefined, max: number): Record<string, unknown> | undefined {
  if (!reasons) return undefined;
  return Object.fromEntries(first(Object.entries(reasons), max).map(([p, r]) => [p, reasonOf(r)]));
}

function targetOf(req: DecisionEvent['request']): { mode: string; target?: string } {
  const modes = (['namespace', 'policy', 'policies'] as const).filter((m) => req[m] !== undefined);
  if (modes.length !== 1) return { mode: 'invalid' };
  if (modes[0] === 'namespace') return { mode: 'namespace', target: req.namespace };
  if (modes[0] === 'policy') return { mode: 'policy', target: req.policy };
  return { mode: 'policies', target: 'inline' };
}

function errorOf(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : 'INTERNAL';
  const message = typeof e?.message === 'string' ? e.message.slice(0, 300) : String(err).slice(0, 300);
  return { code, message };
}

/** A logger that writes nothing (lines go only to the sinks). */
export const SILENT_SINK: DecisionLogSink = { child: () => SILENT_SINK, info: () => {}, isLevelEnabled: () => false };

/** Somewhere else the same lines go (decision-shipping.ts); `offer` never blocks. */
export interface DecisionLineSink {
  /**
   * `line`: the record, or its JSON text when the decision log has serialised it already.
   * `at`: when the decision was made, ms since the epoch (shipped records carry it as `time`). The line is not changed afterwards.
   */
  offer(line: Record<string, unknown> | string, at: number): void;
}

/** The top-level keys a decision line can have (`write` below). */
const LINE_KEYS = new Set(['decisionId', 'reqId', 'endpoint', 'mode', 'target', 'subject', 'resource', 'context', 'permission', 'permissions', 'decision', 'error', 'latencyUs']);

/**
 * For a plain pino logger (no log formatter, mixin, message prefix, stream-write hook, nor a
 * multistream that routes by level), a function that writes an info line whose fields are
 * an already-serialised JSON object's — byte for byte what `logger.info(obj, msg)` writes:
 * `{"level":30,"time":…,<bindings>,<fields>,"msg":…}`. The decision log serialises each
 * line once (native JSON.stringify) and hands the same text to stdout and the shipping
 * sinks. What pino's `redact` paths would censor in a decision line is censored before,
 * where the line is built (KeyRedactor: the `token`, `authorization`, `cookie` and
 * `apikey` entries cover every path logger.ts lists). Undefined for any other logger.
 */
export function rawInfoWriter(logger: DecisionLogSink, msg: string): ((json: string) => void) | undefined {
  const l = logger as unknown as Record<symbol, unknown>;
  const stream = l[symbols.streamSym] as ({ write?: unknown } & Record<symbol, unknown>) | undefined;
  const time = l[symbols.timeSym];
  const chindings = l[symbols.chindingsSym];
  const level = (l[symbols.lsCacheSym] as Record<number, unknown> | undefined)?.[30];
  const end = l[symbols.endSym];
  const formatters = l[symbols.formattersSym] as { log?: unknown } | undefined;
  const hooks = l[symbols.hooksSym] as { streamWrite?: unknown } | undefined;
  if (stream === undefined || typeof stream.write !== 'function' || stream[symbols.needsMetadataGsym] === true) return undefined;
  if (typeof time !== 'function' || typeof chindings !== 'string' || typeof level !== 'string' || typeof end !== 'string') return undefined;
  if (formatters?.log !== undefined || hooks?.streamWrite !== undefined || l[symbols.mixinSym] !== undefined || l[(symbols as unknown as Record<string, symbol>).msgPrefixSym!] !== undefined || l[symbols.messageKeySym] !== 'msg') return undefined;
  // Serializers or redact paths for a line's own top-level keys would change its text.
  const own = (sym: symbol) => Object.keys((l[sym] as object | undefined) ?? {});
  if ([...own(symbols.serializersSym), ...own(symbols.stringifiersSym)].some((k) => LINE_KEYS.has(k))) return undefined;
  const write = (stream.write as (s: string) => unknown).bind(stream);
  const now = time as () => string;
  const tail = `,"msg":${JSON.stringify(msg)}${end}`;
  // `{}` has no fields to put between the bindings and the message.
  return (json) => write(`${level}${now()}${chindings}${json.length > 2 ? `,${json.slice(1, -1)}` : ''}${tail}`);
}

/** A line's JSON text, or undefined when it has none (a BigInt or a cycle in what a caller sent: pino copes, JSON.stringify throws). */
function jsonOf(line: Record<string, unknown>): string | undefined {
  try {
    return JSON.stringify(line);
  } catch {
    return undefined;
  }
}

export function createDecisionLog(logger: DecisionLogSink, options: DecisionLogOptions, sinks: readonly DecisionLineSink[] = []): DecisionLog | undefined {
  if (!options.enabled || !(options.sample > 0)) return undefined;
  const toStdout = typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled('info');
  if (!toStdout && sinks.length === 0) return undefined;
  const log = logger.child({ name: 'decision' });
  // Serialise once for stdout and every sink, where the logger allows writing the text itself.
  const raw = toStdout ? rawInfoWriter(log, 'decision') : undefined;
  const max = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const redactKeys = new KeyRedactor(options.redact);
  const random = options.random ?? Math.random;
  const sample = options.sample;
  const clean = (v: unknown): unknown => boundedCopy(v, redactKeys, 0);

  const subjectOf = (s: SubjectInput): Record<string, unknown> => {
    if (typeof s === 'string') return { id: s };
    const out: Record<string, unknown> = { id: s.id };
    if (s.roles && s.roles.length > 0) out.roles = first(s.roles, max);
    if (s.groups && s.groups.length > 0) out.groups = first(s.groups, max);
    if (options.attributes && s.attributes !== undefined) out.attributes = clean(s.attributes);
    return out;
  };

  const summaryOf = (e: DecisionEvent): Record<string, unknown> => {
    const d = e.decision!;
    const out: Record<string, unknown> = {
      permissionCount: d.permissions.length,
      permissions: first(d.permissions, max),
      denied: first(d.denied, max),
      default: d.default,
      exact: d.exact,
      cached: e.response?.cached ?? false,
      stale: e.response?.stale === true,
      policies: first(d.policies, max),
      conditionErrors: d.conditionErrors?.length ?? 0,
    };
    if (d.conditionErrors) {
      out.conditionFailures = first(d.conditionErrors, max).map((f) => ({ document: f.document, rule: f.rule, error: f.error.slice(0, 200) }));
    }
    if (e.endpoint !== 'evaluate') {
      const r = e.response as CheckResponse;
      if (r.allowed !== undefined) {
        out.allowed = r.allowed;
        if (r.reason) out.reason = reasonOf(r.reason);
      } else if (r.results) {
        const entries = Object.entries(r.results);
        out.allowedCount = entries.filter(([, v]) => v).length;
        out.results = Object.fromEntries(first(entries, max));
        if (r.reasons) out.reasons = reasonsOf(r.reasons, max);
      }
    } else {
      const messages = reasonsOf((e.response as EvaluateResponse | undefined)?.messages, max);
      if (messages) out.messages = messages;
    }
    return out;
  };

  return {
    sampled: sample >= 1 ? () => true : () => random() < sample,
    write(e) {
      const req = e.request;
      // Relationship routes name no namespace path: the graph is global.
      const target = e.endpoint === 'relations-check' || e.endpoint === 'relations-plan' ? { mode: 'relations' } : targetOf(req);
      const line: Record<string, unknown> = { decisionId: e.decisionId, reqId: e.requestId, endpoint: e.endpoint, ...target };
      if (req.subject !== undefined) line.subject = subjectOf(req.subject);
      if (req.resource !== undefined) {
        const { type, id, attributes } = req.resource;
        line.resource = { type, id, ...(options.attributes && attributes !== undefined ? { attributes: clean(attributes) } : {}) };
      }
      if (options.attributes && req.context !== undefined) line.context = clean(req.context);
      if (e.endpoint !== 'evaluate') {
        if (req.permission !== undefined) line.permission = req.permission;
        else if (req.permissions !== undefined) line.permissions = first(req.permissions, max);
      }
      if (e.decision !== undefined) line.decision = summaryOf(e);
      else if (e.summary !== undefined) line.decision = e.summary;
      if (e.error !== undefined) line.error = errorOf(e.error);
      line.latencyUs = e.latencyUs;
      const json = raw !== undefined ? jsonOf(line) : undefined;
      if (json !== undefined) raw!(json);
      else if (toStdout) log.info(line, 'decision');
      if (sinks.length > 0) {
        // Shipped records carry their own time (stdout lines get pino's). Without a stdout
        // line serialised here, the sinks serialise the record after this turn of the event
        // loop; either way they format the time then, not here.
        const at = Date.now();
        const record = json ?? line;
        for (const s of sinks) s.offer(record, at);
      }
    },
  };
}
