// Why the relationship engine could not answer. Its codes are entries of the error
// registry (src/errors.ts); the core does not import the registry (it stays pure), so
// the relation service turns these into the service's coded errors at its edge.

export type RelationErrorCode = 'RELATION_UNKNOWN' | 'RELATION_LIMIT_EXCEEDED' | 'RELATION_DEADLINE_EXCEEDED';

export class RelationError extends Error {
  constructor(
    readonly code: RelationErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RelationError';
  }
}
