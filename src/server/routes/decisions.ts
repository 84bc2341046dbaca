// POST /v1/evaluate (also /evaluate) and POST /v1/check.

import type { FastifyInstance } from 'fastify';
import type { CheckRequest, DecisionService, EvaluateRequest } from '../../engine/decision-service.js';
import { checkBody, checkResponse, errorResponse, evaluateBody, evaluateResponse } from '../schemas/evaluate.js';

const errors = { '4xx': errorResponse, '5xx': errorResponse };

export function decisionRoutes(app: FastifyInstance, service: DecisionService): void {
  const evaluate = {
    schema: { body: evaluateBody, response: { 200: evaluateResponse, ...errors } },
  };
  const handler = async (request: { body: unknown }, reply: import('fastify').FastifyReply) => {
    const { response, body } = service.evaluate(request.body as EvaluateRequest);
    // A fresh cache hit sends the bytes serialized the first time.
    if (body !== undefined) return reply.type("application/json; charset=utf-8").send(body);
    return response;
  };
  app.post('/v1/evaluate', evaluate, handler);
  app.post('/evaluate', evaluate, handler);

  app.post('/v1/check', { schema: { body: checkBody, response: { 200: checkResponse, ...errors } } }, async (request) => {
    return service.check(request.body as CheckRequest);
  });
}
