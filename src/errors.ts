// The one registry of error codes. Domain code throws `PolicyEngineError`s carrying a
// code (never an HTTP status); the server's error handler maps codes to statuses here.
// `test/docs/errors.test.ts` checks every code is unique and documented once in docs/errors.md.

export const ERROR_CODES = {
  REQUEST_INVALID: { status: 400, description: 'The request body or query does not match the route schema.' },
  BODY_MALFORMED: { status: 400, description: 'The body is not well-formed JSON or YAML, or breaks a parser limit (depth, aliases, tags).' },
  BODY_TOO_LARGE: { status: 413, description: 'The body is larger than the configured limit.' },
  MEDIA_TYPE_UNSUPPORTED: { status: 415, description: 'The Content-Type is neither JSON nor YAML.' },
  MODE_INVALID: { status: 400, description: 'An evaluate/check request names none or several of namespace, policy and policies.' },
  NAMESPACE_INVALID: { status: 400, description: 'A namespace path breaks the namespace grammar or limits.' },
  KEY_INVALID: { status: 400, description: 'A policy key breaks the key grammar.' },
  PERMISSION_INVALID: { status: 400, description: 'A permission to check is not a concrete permission.' },
  ATTRIBUTE_INVALID: { status: 400, description: 'A subject, context or resource attribute breaks the attribute registry (type, required, limits); details names each.' },
  REGISTRY_CONFLICT: { status: 409, description: 'Another attribute registry is already stored; there is one per deployment.' },
  SCRIPT_RESULT_INVALID: { status: 400, description: 'A check by script document key got something other than a boolean from can_execute.' },
  SUBJECT_INVALID: { status: 400, description: 'The subject is missing or malformed.' },
  POLICY_INVALID: { status: 422, description: 'A policy document failed validation; details lists every error.' },
  POLICY_KEY_MISMATCH: { status: 422, description: "The document's key differs from the key in the URL." },
  POLICY_NOT_FOUND: { status: 404, description: 'No policy document has this key.' },
  TEST_SUITE_INVALID: { status: 422, description: 'A policy test suite sent to POST /v1/test is malformed (unknown field, bad case, include over HTTP); details lists every problem.' },
  PRECONDITION_FAILED: { status: 412, description: 'If-Match / If-None-Match did not hold: the document changed since it was read.' },
  PRECONDITION_REQUIRED: { status: 428, description: 'Reserved: a write without If-Match where the server requires one.' },
  NOT_ACCEPTABLE: { status: 406, description: 'The Accept header names no format this route can produce.' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No route matches the method and URL.' },
  UNAUTHORIZED: { status: 401, description: 'No valid bearer token: writes, previews and caller-supplied policies or tests need ADMIN_TOKEN, reads of stored state READ_TOKEN or ADMIN_TOKEN (when a token is set), decisions DECISION_TOKEN or ADMIN_TOKEN (when DECISION_TOKEN is set; a gateway sends it in X-Decision-Token).' },
  TOKEN_READ_ONLY: { status: 403, description: 'The READ_TOKEN was sent to a route that needs the admin token (a write, a preview, caller-supplied code).' },
  SCOPE_FORBIDDEN: { status: 403, description: 'The credential (ADMIN_TOKENS_FILE) lacks the verb this route needs, or does not reach a namespace the request touches (a bulk import is refused whole); or a verified JWT sent to an admin or read route matches no `jwt:` credential.' },
  HISTORY_PRUNED: { status: 410, description: 'The change feed was asked for changes older than the retention keeps; start again from the revision given in details.' },
  VERSION_NOT_FOUND: { status: 404, description: 'No recorded version of this policy has that revision (never written, or past the history retention).' },
  WRITES_DISABLED: { status: 403, description: 'Write routes are refused: the server listens beyond loopback and no ADMIN_TOKEN is set.' },
  ADMIN_TOKEN_REQUIRED: { status: 403, description: 'Reads of stored state, the API docs and caller-supplied policies or tests are refused: the server listens beyond loopback and no ADMIN_TOKEN is set.' },
  DECISIONS_DISABLED: { status: 403, description: 'Decision routes (evaluate, check, plans, AuthZEN, forward-auth) are refused: the server listens beyond loopback and no DECISION_TOKEN is set.' },
  HOST_NOT_ALLOWED: { status: 403, description: 'The Host header names neither a loopback name nor one of ALLOWED_HOSTS (a DNS-rebinding guard).' },
  ORIGIN_NOT_ALLOWED: { status: 403, description: 'The Origin header names a page of another origin, neither the Host itself nor a loopback name nor one of ALLOWED_HOSTS.' },
  STORE_DISABLED: { status: 400, description: 'The server runs with STORE=none: only the policies mode works.' },
  STORE_UNAVAILABLE: { status: 503, description: 'The policy store cannot be reached, or the policy state is too stale to give the default.' },
  POLICY_STATE_BROKEN: { status: 503, description: 'A stored document in the path could not be compiled; answering without it could grant too much.' },
  NOT_READY: { status: 503, description: 'Policies have not been loaded yet.' },
  RELATION_INVALID: { status: 400, description: 'A relationship tuple, object, subject, cursor or revision is malformed (`resource#relation@subject`, `type:id`).' },
  RELATION_UNKNOWN: { status: 400, description: 'A type, relation or permission that the relationship schema does not know (never answered as false).' },
  RELATION_SCHEMA_INVALID: { status: 422, description: 'A relationship schema failed validation, or would orphan stored tuples; details lists every error with its place.' },
  RELATION_SCHEMA_NOT_FOUND: { status: 404, description: 'No relationship schema is stored yet.' },
  RELATION_TUPLE_INVALID: { status: 422, description: 'A tuple that the relationship schema does not allow, or a batch that contradicts itself; details lists each.' },
  RELATION_PRECONDITION_FAILED: { status: 409, description: 'A mustExist / mustNotExist precondition of a relationship write did not hold; nothing was written.' },
  RELATION_LIMIT_EXCEEDED: { status: 422, description: 'A relationship check or lookup went deeper (depth limit) or wider (fan-out limit) than allowed.' },
  RELATION_DEADLINE_EXCEEDED: { status: 503, description: 'A relationship check or lookup ran past its deadline.' },
  RELATIONS_STALE: { status: 503, description: 'The relationship state of this replica is older than the consistency asked for, and did not catch up in time.' },
  RELATIONS_DISABLED: { status: 400, description: 'The server runs without a relationship store (STORE=none).' },
  ENTITY_REF_INVALID: { status: 400, description: 'A directory ref (`type:id`), type filter or cursor is malformed: the type a letter then letters, digits, `_ . -`; the id 1–256 printable characters.' },
  ENTITY_INVALID: { status: 422, description: 'A directory entity (or an import) failed validation: unknown fields, roles or groups not lists of names, attributes not an object or beyond their limits; details lists each problem, and nothing was written.' },
  ENTITY_NOT_FOUND: { status: 404, description: 'The directory holds no entity with this ref.' },
  TOKEN_INVALID: { status: 401, description: 'A JWT was sent (as a decision subject, or as an admin credential) and refused: malformed, `alg: none` or an algorithm not allowed, unknown key, bad signature, wrong issuer or audience, expired or not yet valid, no subject; `details.reason` says which.' },
  TOKEN_KEYS_UNAVAILABLE: { status: 503, description: 'The JWKS that verifies tokens could not be read (file or URL), so no token can be accepted now.' },
  PREVIEW_LIMIT_EXCEEDED: { status: 422, description: 'An impact preview names more changes, requests or plans than its bounds allow; nothing was evaluated.' },
  PLAN_UNSUPPORTED: { status: 422, description: 'A query plan needs a rule that has no filter form (a Lua rule or a CEL function over the resource); details names the document and rule. allowPartial: true gets an over-approximating plan instead.' },
  PLAN_TOO_LARGE: { status: 422, description: 'A query plan would list more ids than PLAN_MAX_IDS (related() over the resource, or lookup-resources).' },
  PLAN_FIELD_INVALID: { status: 400, description: 'A query plan field, or the name it is mapped to, is not a plain identifier (or starts with $).' },
  FORWARD_AUTH_UNAUTHENTICATED: { status: 401, description: 'Forward-auth: the gateway sub-request carries no subject (no or an unverifiable token, no subject header).' },
  FORWARD_AUTH_DENIED: { status: 403, description: 'Forward-auth: the route matched and the check refused the permission; X-Auth-Reason says why.' },
  FORWARD_AUTH_NO_ROUTE: { status: 403, description: 'Forward-auth: no configured route matches the original method and URI (never allowed).' },
  FORWARD_AUTH_URI_REFUSED: { status: 403, description: 'Forward-auth: the original URI or method is refused rather than guessed at (dot segments, encoded separators, empty segments, bad percent-encoding, a path parameter that is no namespace).' },
  ROUTES_INVALID: { status: 422, description: 'A forward-auth route table (FORWARD_AUTH_ROUTES) is malformed: details lists every problem.' },
  ROUTES_CONFLICT: { status: 409, description: 'A stored `kind: routes` document has a route (method and path template) that the route file or another stored route document already has; details lists each with its line. Nothing was written.' },
  FORWARD_AUTH_ROUTES_BROKEN: { status: 503, description: 'Forward-auth: a stored `kind: routes` document does not compile and no route ahead of it matched the request; refused (fail closed) until the document is fixed or deleted.' },
  UI_NOT_BUILT: { status: 503, description: 'The playground page at /ui is enabled but its bundle was not built (`npm run build:ui`).' },
  INTERNAL: { status: 500, description: 'An unexpected error; the body carries an id that the server log also has.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PolicyEngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PolicyEngineError';
  }
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
