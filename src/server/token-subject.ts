// JWT subjects on the decision routes (SPEC §12 "Tokens", docs/jwt.md): the one hook that
// makes a request carrying a verified JWT about the token's subject — /v1/evaluate,
// /v1/check, the plans and AuthZEN alike. Each route says where its body names a subject
// and where the token's subject goes (a SubjectSlot); the rules are the same everywhere.

import type { FastifyRequest } from 'fastify';
import type { JwtSubjects, TokenSubject } from '../engine/tokens/jwt-subjects.js';
import { refuse } from '../engine/tokens/jwt-subjects.js';
import { PolicyEngineError } from '../errors.js';

type Body = Record<string, unknown>;

/** Where a route's body names its subject, and where the token's subject goes instead. */
export interface SubjectSlot {
  /** the subject ids the body names (none: it names none, or only types) */
  named(body: Body): string[];
  /** make the request about the token's subject */
  put(body: Body, subject: TokenSubject, request: FastifyRequest): void;
}

/** The subject of /v1/evaluate, /v1/check and /v1/plan: `subject`, an id or `{ id, … }`. */
export const BODY_SUBJECT: SubjectSlot = {
  named(b) {
    if (b.subject === undefined) return [];
    const sent = typeof b.subject === 'string' ? b.subject : (b.subject as { id?: unknown } | null)?.id;
    return [sent as string];
  },
  put(b, subject) {
    b.subject = subject;
  },
};

/** The relationship routes' `subject`, a ref (`user:alice`): a JWT's subject is its id. */
export const RELATION_SUBJECT: SubjectSlot = {
  named: (b) => (b.subject === undefined ? [] : [b.subject as string]),
  put(b, subject) {
    b.subject = subject.id;
  },
};

/**
 * Before the body is validated: a verified JWT's subject becomes the request's subject.
 * A body naming another subject is refused (400 SUBJECT_INVALID), never silently
 * replaced or kept; without a token the body's subject counts, unless JWT_REQUIRED.
 */
export function subjectFromToken(tokens: JwtSubjects, slot: SubjectSlot = BODY_SUBJECT) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = tokens.tokenOf(request.headers);
    if (token === undefined) {
      if (tokens.required) throw refuse('missing', 'this server takes the subject from a JWT: send one');
      return;
    }
    const subject = await tokens.verify(token);
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return; // the schema refuses it
    for (const sent of slot.named(body as Body)) {
      if (sent !== subject.id) throw new PolicyEngineError('SUBJECT_INVALID', `the subject is the token's (${subject.id.slice(0, 200)}); the body names another`);
    }
    slot.put(body as Body, subject, request);
  };
}

const tokenSubjects = new WeakMap<FastifyRequest, TokenSubject>();

/** A slot whose route reads the token's subject with `tokenSubjectOf` (the body keeps its shape). */
export function keptSubject(named: SubjectSlot['named']): SubjectSlot {
  return { named, put: (_b, subject, request) => void tokenSubjects.set(request, subject) };
}

/** The verified token's subject of a request whose slot kept it (keptSubject), if any. */
export function tokenSubjectOf(request: FastifyRequest): TokenSubject | undefined {
  return tokenSubjects.get(request);
}
