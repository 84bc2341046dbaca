// AuthZEN Authorization API 1.0 (SPEC §12) on the same port: /access/v1/evaluation,
// /access/v1/evaluations, the searches, and the PDP metadata at
// /.well-known/authzen-configuration. Transport only: the AuthZEN service maps and
// decides. Errors keep our error body with the standard's statuses (400 for a bad or
// incomplete request); X-Request-ID is echoed on every answer, errors included.

import { randomUUID } from 'node:crypto';
import { DECISION_ID_HEADER } from './decisions.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthzenService, AuthzenObserved } from '../../engine/authzen-service.js';
import type { AuthzenEvaluation, AuthzenEvaluations } from '../../core/authzen/mapping.js';
import type { RequestMeta } from '../../core/request.js';
import type { DecisionObservers } from './decisions.js';
import { errorResponse } from '../schemas/evaluate.js';
import {
  actionSearchBody, actionSearchResponse, configurationResponse, decisionResponse, entitySearchResponse, evaluationBody, evaluationsBody,
  evaluationsResponse, resourceSearchBody, subjectSearchBody,
} from '../schemas/authzen.js';
import type { SearchRequest } from '../../engine/authzen-service.js';
import { keptSubject, subjectFromToken, tokenSubjectOf, type SubjectSlot } from '../token-subject.js';
import { loggedDecision } from './decision-line.js';
import type { SearchPage } from '../../engine/authzen-service.js';

const errors = { '4xx': errorResponse, '5xx': errorResponse };
const tags = ['authzen'];

export const AUTHZEN_PATHS = {
  evaluation: '/access/v1/evaluation',
  evaluations: '/access/v1/evaluations',
  searchSubject: '/access/v1/search/subject',
  searchResource: '/access/v1/search/resource',
  searchAction: '/access/v1/search/action',
  configuration: '/.well-known/authzen-configuration',
} as const;

export interface AuthzenRouteOptions {
  service: AuthzenService;
  observers?: DecisionObservers;
  /** the policy_decision_point identifier (AUTHZEN_PDP_URL); absent: the scheme and Host the request came with */
  pdpUrl?: string;
}

/** The standard: a PDP answering a request that carries X-Request-ID includes the same one. */
function echoRequestId(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  const id = request.headers['x-request-id'];
  if (typeof id === 'string') reply.header('x-request-id', id);
  done(null, payload);
}

/** The `type:id` refs of the AuthZEN subjects in `list` (one that names only a type names none). */
function refsOf(...list: unknown[]): string[] {
  const out: string[] = [];
  for (const s of list) {
    if (s === null || typeof s !== 'object') continue; // absent; anything else the schema refuses
    const { type, id } = s as { type?: unknown; id?: unknown };
    if (id !== undefined) out.push(`${String(type)}:${String(id)}`);
  }
  return out;
}

/**
 * Where each AuthZEN request names a subject a JWT must agree with (docs/jwt.md): the
 * evaluation's, every subject of a batch, the searches' for resources and actions. A
 * subject search names only the type it searches, which the token does not replace: it
 * restricts the candidates to the token's subject.
 */
const SLOTS = {
  single: keptSubject((b) => refsOf(b.subject)),
  batch: keptSubject((b) => refsOf(b.subject, ...(Array.isArray(b.evaluations) ? b.evaluations.map((e: unknown) => (e as { subject?: unknown } | null)?.subject) : []))),
  subjectSearch: keptSubject(() => []),
} satisfies Record<string, SubjectSlot>;

function metaOf(request: FastifyRequest): RequestMeta {
  const acceptLanguage = request.headers['accept-language'];
  return typeof acceptLanguage === 'string' ? { acceptLanguage } : {};
}

export function authzenRoutes(app: FastifyInstance, options: AuthzenRouteOptions): void {
  const { service, observers = {} } = options;
  const { log, metrics, tokens } = observers;
  /** With JWT subjects on: the route's hook (a verified token's subject, or 401) */
  const withToken = (slot: SubjectSlot) => (tokens ? { preValidation: subjectFromToken(tokens, slot) } : {});

  /** Each evaluation is counted and (sampled) logged like a check, under endpoint `authzen`. */
  const observerFor = (request: FastifyRequest, reply: FastifyReply) => {
    // One id per evaluation (a batch has several: the header names the request's first).
    let first = true;
    const logged = log !== undefined && log.sampled();
    const start = logged ? performance.now() : 0;
    return (o: AuthzenObserved) => {
      const decisionId = randomUUID();
      if (first) reply.header(DECISION_ID_HEADER, decisionId);
      first = false;
      const outcome = o.error !== undefined ? 'error' : o.response?.allowed ? 'allowed' : 'denied';
      metrics?.countDecision('authzen', 'namespace', outcome, o.decision?.conditionErrors !== undefined);
      if (logged) {
        log.write({
          endpoint: 'authzen', requestId: request.id, decisionId, request: o.request, decision: o.decision, response: o.response, error: o.error,
          latencyUs: Math.round((performance.now() - start) * 1000),
        });
      }
    };
  };

  /** A search: one decision-log line (endpoint `authzen-search`) for the whole request. */
  const search = (kind: 'subject' | 'resource' | 'action', run: typeof service.searchSubject) => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body as SearchRequest;
    const as = tokenSubjectOf(request);
    return loggedDecision(log, 'authzen-search', request, reply, {
      request: () => service.searchAsCheck(body, as),
      summary: (p: SearchPage) => ({ search: kind, resultCount: p.results.length, more: (p.page?.next_token ?? '') !== '' }),
    }, () => run.call(service, body, metaOf(request), as));
  };

  app.register(async (scope) => {
    scope.addHook('onSend', echoRequestId);

    scope.post(AUTHZEN_PATHS.evaluation, {
      ...withToken(SLOTS.single),
      schema: {
        tags,
        summary: 'AuthZEN Access Evaluation: may this subject perform this action on this resource?',
        description: 'Subject `{type, id, properties}` → subject `type:id` (`properties.roles` / `groups` → roles / groups, other properties → attributes); `action.name` → the permission; namespace path from `context.namespace`, else `resource.properties.namespace`, else AUTHZEN_NAMESPACE. Decided exactly as POST /v1/check (same cache).',
        body: evaluationBody,
        response: { 200: decisionResponse, ...errors },
      },
    }, async (request, reply) => service.evaluation(request.body as AuthzenEvaluation, metaOf(request), observerFor(request, reply), tokenSubjectOf(request)));

    scope.post(AUTHZEN_PATHS.evaluations, {
      ...withToken(SLOTS.batch),
      schema: {
        tags,
        summary: 'AuthZEN Access Evaluations: several evaluations in one request',
        description: 'Top-level `subject`, `action`, `resource`, `context` are defaults each item may override; `options.evaluations_semantic`: `execute_all` (default), `deny_on_first_deny`, `permit_on_first_permit`. An item the decision path refuses is `decision: false` with `context.error`.',
        body: evaluationsBody,
        response: { 200: evaluationsResponse, ...errors },
      },
    }, async (request, reply) => service.evaluations(request.body as AuthzenEvaluations, metaOf(request), observerFor(request, reply), tokenSubjectOf(request)));

    scope.post(AUTHZEN_PATHS.searchSubject, {
      ...withToken(SLOTS.subjectSearch),
      schema: {
        tags,
        summary: 'AuthZEN Subject Search: the subjects of a type that may perform the action on the resource',
        description: 'Candidates: subjects of `subject.type` that the path\'s policies name, the directory\'s, and the relationship graph\'s (lookup-subjects); each is checked like an evaluation. `page.limit` (default 100, at most 1000), `page.token` from `page.next_token`.',
        body: subjectSearchBody,
        response: { 200: entitySearchResponse, ...errors },
      },
    }, search('subject', service.searchSubject));

    scope.post(AUTHZEN_PATHS.searchResource, {
      ...withToken(SLOTS.single),
      schema: {
        tags,
        summary: 'AuthZEN Resource Search: the resources of a type the subject may perform the action on',
        description: 'The query plan (POST /v1/plan) for the subject, action and namespace path, run over the directory\'s entities of `resource.type` and the resources relationship tuples name; a plan that is not exact is confirmed by a check per result. Paged like the other searches.',
        body: resourceSearchBody,
        response: { 200: entitySearchResponse, ...errors },
      },
    }, search('resource', service.searchResource));

    scope.post(AUTHZEN_PATHS.searchAction, {
      ...withToken(SLOTS.single),
      schema: {
        tags,
        summary: 'AuthZEN Action Search: the actions the subject may perform on the resource',
        description: 'Candidates: the concrete permissions the path\'s policies grant that name the resource type (`document:read`) or no type (`view`), and the relationship schema\'s permissions of that type, decided in one check. Paged like the other searches.',
        body: actionSearchBody,
        response: { 200: actionSearchResponse, ...errors },
      },
    }, search('action', service.searchAction));

    scope.get(AUTHZEN_PATHS.configuration, {
      schema: { tags, summary: 'AuthZEN PDP metadata: the endpoints this server answers', response: { 200: configurationResponse, ...errors } },
    }, async (request, reply) => {
      const base = (options.pdpUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
      reply.header('cache-control', 'max-age=300');
      return {
        policy_decision_point: base,
        access_evaluation_endpoint: base + AUTHZEN_PATHS.evaluation,
        access_evaluations_endpoint: base + AUTHZEN_PATHS.evaluations,
        search_subject_endpoint: base + AUTHZEN_PATHS.searchSubject,
        search_action_endpoint: base + AUTHZEN_PATHS.searchAction,
        search_resource_endpoint: base + AUTHZEN_PATHS.searchResource,
      };
    });
  });
}
