// One decision-log line per request for the decision routes whose answer is not a
// Decision (SPEC §7; docs/decision-logs.md): the plans, the AuthZEN searches and the
// relationship check. Same conventions as evaluate and check: a decision id per request
// in X-Decision-Id (and in the line), sampling decided before anything is built, the
// line's attributes and context redacted by the decision log, a failure logged as `error`.

import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DecisionEvent, DecisionLog, DecisionLogEndpoint } from '../../observability/decision-log.js';
import { DECISION_ID_HEADER } from './decisions.js';

export interface LoggedDecision<T> {
  /** the request as a check (built only for a sampled request) */
  request(): DecisionEvent['request'];
  /** what the answer says (the line's `decision`) */
  summary(answer: T): Record<string, unknown>;
}

/**
 * Runs `answer` as the request's one decision, logged (when sampled) under `endpoint`.
 * Unlogged, it returns what `answer` returns: a synchronous answer stays synchronous,
 * so a route handler that returns it sends it in the same tick.
 */
export function loggedDecision<T>(
  log: DecisionLog | undefined, endpoint: DecisionLogEndpoint, request: FastifyRequest, reply: FastifyReply,
  describe: LoggedDecision<T>, answer: () => T | Promise<T>,
): T | Promise<T> {
  const decisionId = randomUUID();
  reply.header(DECISION_ID_HEADER, decisionId);
  if (log === undefined || !log.sampled()) return answer();
  return logged(log, { endpoint, requestId: request.id, decisionId }, describe, answer);
}

async function logged<T>(
  log: DecisionLog, line: { endpoint: DecisionLogEndpoint; requestId: string; decisionId: string },
  describe: LoggedDecision<T>, answer: () => T | Promise<T>,
): Promise<T> {
  const start = performance.now();
  const latencyUs = () => Math.round((performance.now() - start) * 1000);
  let result: T;
  try {
    result = await answer();
  } catch (err) {
    log.write({ ...line, request: describe.request(), error: err, latencyUs: latencyUs() });
    throw err;
  }
  log.write({ ...line, request: describe.request(), summary: describe.summary(result), latencyUs: latencyUs() });
  return result;
}

/** A relationship ref (`document:1`) as a line's resource. */
export function resourceOfRef(ref: string): { type: string; id?: string } {
  const i = ref.indexOf(':');
  return i > 0 ? { type: ref.slice(0, i), id: ref.slice(i + 1) } : { type: ref };
}
