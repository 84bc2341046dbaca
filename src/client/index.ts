// The client package: a typed HTTP client for the engine, and route guards for fastify
// and Express built on it.

export {
  PolicyEngineClient,
  type CallOptions,
  type DocumentFormat,
  type ImportResult,
  type PolicyEngineClientOptions,
  type PolicyInput,
  type PolicyPage,
  type PolicySummary,
  type PutPolicyResult,
  type ReadyStatus,
  type StoredPolicy,
  type ValidationResult,
  type WriteOptions,
} from './client.js';
export { PolicyEngineClientError, TRANSPORT_CODES, type PolicyEngineClientErrorInit } from './errors.js';
export { decidePermission, type GuardOptions, type GuardRefusal, type GuardRefusalCode, type GuardVerdict } from './guard.js';
export { fastifyPolicyGuard, fastifyRequirePermission, type FastifyGuardOptions, type FastifyGuardPluginOptions } from './fastify-guard.js';
export { createExpressGuard, expressRequirePermission, type ExpressGuardConfig, type ExpressGuardOptions } from './express-guard.js';
export { authorizedFind, authorizedQuery, type AuthorizedPage, type AuthorizedPageOptions, type MongoCollectionLike, type PgQueryable, type RowResource } from './plan-helpers.js';
export type { PlanRequest, PlanResponse } from '../engine/plan-service.js';
export type { Filter as PlanFilter } from '../core/plan/filter.js';
export type { PreviewRequest, PreviewResult, SampleImpact } from '../engine/preview/impact-preview.js';
export type {
  CheckRequest, CheckResponse, EvaluateRequest, EvaluateResponse, SubjectInput,
} from '../core/request.js';
