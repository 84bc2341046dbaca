// The one error the client throws: the engine's error body when it answered, or a
// transport failure with a synthetic code, so callers branch on `code` either way.

/** Codes the client makes up when no answer came back (the engine's own codes are in docs/errors.md). */
export const TRANSPORT_CODES = {
  /** the connection failed (refused, reset, DNS…) → statusCode 503 */
  ENGINE_UNREACHABLE: 503,
  /** no answer within the client's timeout → statusCode 504 */
  ENGINE_TIMEOUT: 504,
  /** an answer that is not the engine's JSON → statusCode 502 (or the answer's status) */
  ENGINE_BAD_RESPONSE: 502,
} as const;

export interface PolicyEngineClientErrorInit {
  statusCode: number;
  code: string;
  details?: unknown;
  /** the id the engine logged an unexpected error under */
  errorId?: string;
  cause?: unknown;
}

export class PolicyEngineClientError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details?: unknown;
  readonly errorId?: string;

  constructor(message: string, init: PolicyEngineClientErrorInit) {
    super(message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = 'PolicyEngineClientError';
    this.statusCode = init.statusCode;
    this.code = init.code;
    if (init.details !== undefined) this.details = init.details;
    if (init.errorId !== undefined) this.errorId = init.errorId;
  }

  /** True when the engine could not be asked (unreachable, timed out) or could not answer (5xx). */
  get unavailable(): boolean {
    return this.statusCode >= 500;
  }
}
