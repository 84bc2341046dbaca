// AuthZEN Authorization API 1.0 over the decision service (SPEC §12): every evaluation
// is a /v1/check through DecisionService.checkDetailed, so the cache, the stale-state
// refusal and the directory merge are the same as for our own API. This file only
// maps requests (core/authzen/mapping.ts), applies the batch semantics and shapes the
// answers the standard expects.

import { PolicyEngineError, statusOf } from '../errors.js';
import type { CheckRequest, CheckResponse, RequestMeta } from '../core/request.js';
import type { Decision, Reason } from '../core/evaluate/types.js';
import {
  expandEvaluations, runEvaluations, toCheckRequest,
  type AuthzenEvaluation, type AuthzenEvaluations, type MappingSettings,
} from '../core/authzen/mapping.js';
import type { DecisionService } from './decision-service.js';

/** What the standard answers for one evaluation. */
export interface AuthzenDecision {
  decision: boolean;
  context?: { reason?: Reason; error?: { status: number; code: string; message: string } };
}

/** One evaluation as observers (decision log, metrics) see it. */
export interface AuthzenObserved {
  request: CheckRequest;
  response?: CheckResponse;
  decision?: Decision;
  error?: unknown;
}

export type Observe = (o: AuthzenObserved) => void;

export interface AuthzenServiceOptions extends MappingSettings {
  decisions: DecisionService;
}

function decisionOf(r: CheckResponse): AuthzenDecision {
  const allowed = r.allowed === true;
  return allowed || !r.reason ? { decision: allowed } : { decision: false, context: { reason: r.reason } };
}

export class AuthzenService {
  constructor(private readonly options: AuthzenServiceOptions) {}

  /** Check one evaluation; errors propagate (the single endpoint answers them as HTTP errors). */
  private check(e: AuthzenEvaluation, meta: RequestMeta, observe?: Observe): AuthzenDecision {
    let request: CheckRequest | undefined;
    try {
      request = toCheckRequest(e, this.options);
      const { response, decision } = this.options.decisions.checkDetailed(request, meta);
      observe?.({ request, response, decision });
      return decisionOf(response);
    } catch (err) {
      if (request) observe?.({ request, error: err });
      throw err;
    }
  }

  /** POST /access/v1/evaluation */
  evaluation(e: AuthzenEvaluation, meta: RequestMeta = {}, observe?: Observe): AuthzenDecision {
    return this.check(e, meta, observe);
  }

  /**
   * POST /access/v1/evaluations. An item the decision path refuses (a bad namespace or
   * action name) is a denial carrying its error, as the standard describes errors in
   * individual evaluations; a server-side failure (5xx: store unreachable, broken
   * state) concerns the whole payload and fails the request.
   */
  evaluations(req: AuthzenEvaluations, meta: RequestMeta = {}, observe?: Observe): AuthzenDecision | { evaluations: AuthzenDecision[] } {
    const { single, items } = expandEvaluations(req);
    if (single) return this.check(items[0]!, meta, observe);
    const semantic = req.options?.evaluations_semantic ?? 'execute_all';
    const evaluations = runEvaluations(items, semantic, (e) => {
      try {
        return this.check(e, meta, observe);
      } catch (err) {
        if (!(err instanceof PolicyEngineError) || statusOf(err.code) >= 500) throw err;
        return { decision: false, context: { error: { status: statusOf(err.code), code: err.code, message: err.message } } };
      }
    });
    return { evaluations };
  }
}
