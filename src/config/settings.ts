// Every setting the service reads: environment variable, CLI flag, default, meaning.
// One table, so the README's configuration table, `--help` and validation agree.

/** `number` is a decimal within min..max; `list` is comma-separated (blanks dropped). */
export type SettingKind = 'int' | 'number' | 'string' | 'enum' | 'json-string-array' | 'bool' | 'list';

export interface Setting {
  /** property name in Config */
  name: string;
  env: string;
  flag: string;
  kind: SettingKind;
  default?: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  description: string;
}

export const SETTINGS: readonly Setting[] = [
  { name: 'port', env: 'PORT', flag: '--port', kind: 'int', default: '8080', min: 0, max: 65535, description: 'listen port' },
  { name: 'host', env: 'HOST', flag: '--host', kind: 'string', default: '127.0.0.1', description: 'listen address (loopback by default: a sidecar)' },
  { name: 'store', env: 'STORE', flag: '--store', kind: 'enum', values: ['mongo', 'file', 'none'], description: '`mongo` when MONGO_URL is set, else `file`; `none` serves only the policies mode' },
  { name: 'mongoUrl', env: 'MONGO_URL', flag: '--mongo-url', kind: 'string', description: 'MongoDB connection string; the database is the one in its path, or MONGO_DB' },
  { name: 'mongoDb', env: 'MONGO_DB', flag: '--mongo-db', kind: 'string', description: 'database name when the URL names none' },
  { name: 'policyDir', env: 'POLICY_DIR', flag: '--policy-dir', kind: 'string', default: './policies', description: "the file store's directory; one set explicitly must exist (the start fails otherwise), only the default is created when missing" },
  { name: 'tlsCertFile', env: 'TLS_CERT_FILE', flag: '--tls-cert-file', kind: 'string', description: 'PEM certificate: with TLS_KEY_FILE, the listener serves HTTPS' },
  { name: 'tlsKeyFile', env: 'TLS_KEY_FILE', flag: '--tls-key-file', kind: 'string', description: 'PEM private key of TLS_CERT_FILE' },
  { name: 'adminToken', env: 'ADMIN_TOKEN', flag: '--admin-token', kind: 'string', description: 'bearer token required by write routes, previews and caller-supplied policies or tests, and accepted for reads (docs/security.md)' },
  { name: 'readToken', env: 'READ_TOKEN', flag: '--read-token', kind: 'string', description: 'read-only bearer token: accepted for reads of stored state (policies, relations, metrics, docs), refused for writes; needs ADMIN_TOKEN' },
  { name: 'adminTokensFile', env: 'ADMIN_TOKENS_FILE', flag: '--admin-tokens-file', kind: 'string', description: 'JSON or YAML file of named credentials, each the SHA-256 of its token with the verbs (read, write, relations, entities, preview) and namespace prefixes it reaches (docs/audit.md); needs ADMIN_TOKEN, which stays the root credential' },
  { name: 'adminTokensReloadMs', env: 'ADMIN_TOKENS_RELOAD_MS', flag: '--admin-tokens-reload-ms', kind: 'int', default: '5000', min: 100, max: 3600000, description: 'how often ADMIN_TOKENS_FILE is checked for changes: a revoked credential stops working within this long of the file changing on the replica' },
  { name: 'historyRetentionDays', env: 'HISTORY_RETENTION_DAYS', flag: '--history-retention-days', kind: 'number', default: '90', min: 0.0001, max: 36500, description: 'how long recorded changes (policy history, the change feed) are kept; a key\'s newest record always stays (docs/audit.md)' },
  { name: 'allowedHosts', env: 'ALLOWED_HOSTS', flag: '--allowed-hosts', kind: 'list', default: '', description: 'comma-separated host names the Host header may name besides localhost, 127.0.0.1 and [::1] (checked always on loopback, beyond it when set; `*` = any)' },
  { name: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'pino log level' },
  { name: 'defaultPermissions', env: 'DEFAULT_PERMISSIONS', flag: '--default-permissions', kind: 'json-string-array', default: '["*"]', description: 'the result for a path with no documents (JSON array of patterns)' },
  { name: 'planMaxIds', env: 'PLAN_MAX_IDS', flag: '--plan-max-ids', kind: 'int', default: '10000', min: 1, max: 1000000, description: 'most ids a query plan lists for related() over the resource (POST /v1/plan, /v1/relations/plan); beyond it 422 PLAN_TOO_LARGE' },
  { name: 'defaultLanguage', env: 'DEFAULT_LANGUAGE', flag: '--default-language', kind: 'string', default: 'en', description: 'language of reasons when the request names none a catalogue has' },
  { name: 'languageAttribute', env: 'LANGUAGE_ATTRIBUTE', flag: '--language-attribute', kind: 'string', default: 'language', description: 'the subject attribute naming the language of reasons when the request has neither `language` nor Accept-Language' },
  { name: 'messageLanguages', env: 'MESSAGE_LANGUAGES', flag: '--message-languages', kind: 'list', default: '', description: 'comma-separated languages every message key must have a catalogue text in (validate warns otherwise); empty = DEFAULT_LANGUAGE' },
  { name: 'pollIntervalMs', env: 'POLL_INTERVAL_MS', flag: '--poll-interval-ms', kind: 'int', default: '1000', min: 50, max: 60000, description: 'how often a MongoDB replica asks for policy changes (bounds propagation: ≤ this + one query)' },
  { name: 'staleAfterMs', env: 'STALE_AFTER_MS', flag: '--stale-after-ms', kind: 'int', default: '10000', min: 100, max: 86400000, description: 'without a successful sync for this long, answers say `stale: true` and the default is refused (503)' },
  { name: 'resyncIntervalMs', env: 'RESYNC_INTERVAL_MS', flag: '--resync-interval-ms', kind: 'int', default: '300000', min: 0, max: 86400000, description: 'full reload from the store as a safety net (0 = never)' },
  { name: 'cacheMax', env: 'CACHE_MAX', flag: '--cache-max', kind: 'int', default: '10000', min: 0, max: 10000000, description: 'most decisions held in the in-process cache (0 disables it)' },
  { name: 'cacheMaxBytes', env: 'CACHE_MAX_BYTES', flag: '--cache-max-bytes', kind: 'int', default: '16777216', min: 65536, max: 17179869184, description: 'most bytes the decision cache holds, by its own estimate of each entry (key, lists, serialized answer); the least recently used go first (docs/decision-cache.md)' },
  { name: 'planCacheMaxBytes', env: 'PLAN_CACHE_MAX_BYTES', flag: '--plan-cache-max-bytes', kind: 'int', default: '67108864', min: 65536, max: 17179869184, description: 'most bytes of compiled namespace-path plans kept (each estimated from its arrays, indexes and pattern table; at most 10,000 paths); a path whose plan was dropped is planned again on its next cache miss' },
  { name: 'cacheTtlMs', env: 'CACHE_TTL_MS', flag: '--cache-ttl-ms', kind: 'int', default: '0', min: 0, max: 86400000, description: 'optional age bound for cached decisions (0 = none; invalidation keeps them correct)' },
  { name: 'timeBucketMs', env: 'TIME_BUCKET_MS', flag: '--time-bucket-ms', kind: 'int', default: '60000', min: 1000, max: 86400000, description: 'a decision whose conditions read `now` is cached within one bucket of this length (aligned to the clock)' },
  { name: 'luaInstructions', env: 'LUA_INSTRUCTIONS', flag: '--lua-instructions', kind: 'int', default: '200000', min: 1000, max: 100000000, description: 'Lua instruction budget per call (counted in steps of 1,000)' },
  { name: 'luaTimeMs', env: 'LUA_TIME_MS', flag: '--lua-time-ms', kind: 'int', default: '20', min: 1, max: 10000, description: 'Lua wall-clock budget per call, in ms' },
  { name: 'luaMemoryBytes', env: 'LUA_MEMORY_BYTES', flag: '--lua-memory-bytes', kind: 'int', default: '4194304', min: 65536, max: 1073741824, description: 'Lua memory a script document may use beyond its loaded code' },
  { name: 'luaTurnMs', env: 'LUA_TURN_MS', flag: '--lua-turn-ms', kind: 'int', default: '0', min: 0, max: 10000, description: 'Lua time one turn of the event loop may spend over all scripts (many Lua documents in one request share it); 0 = off. Turn it on when callers may send Lua without a token: past it, the rest of the request\'s scripts fail closed, so test suites and previews may then fail for time ([docs/budgets-lua.md](budgets-lua.md))' },
  { name: 'celSteps', env: 'CEL_STEPS', flag: '--cel-steps', kind: 'int', default: '50000', min: 1000, max: 100000000, description: 'CEL cost budget per decision, shared by all its conditions: one step per expression node evaluated, per list element or map entry and per 10 characters a function reads (docs/budgets-cel.md); past it the condition fails closed with CEL_BUDGET_EXCEEDED' },
  { name: 'celAllocation', env: 'CEL_ALLOCATION', flag: '--cel-allocation', kind: 'int', default: '1000000', min: 1000, max: 1000000000, description: 'characters, list elements and map entries the conditions of one decision may build together (CEL_BUDGET_EXCEEDED past it)' },
  { name: 'bodyLimit', env: 'BODY_LIMIT', flag: '--body-limit', kind: 'int', default: '1048576', min: 1024, max: 67108864, description: 'largest request body in bytes' },
  { name: 'maxNamespaceDepth', env: 'MAX_NAMESPACE_DEPTH', flag: '--max-namespace-depth', kind: 'int', default: '32', min: 1, max: 1024, description: 'most namespaces in a path' },
  { name: 'maxNamespaceLength', env: 'MAX_NAMESPACE_LENGTH', flag: '--max-namespace-length', kind: 'int', default: '128', min: 1, max: 4096, description: 'longest namespace' },
  { name: 'storeTimeoutMs', env: 'STORE_TIMEOUT_MS', flag: '--store-timeout-ms', kind: 'int', default: '2000', min: 100, max: 60000, description: 'MongoDB server selection / operation timeout' },
  { name: 'decisionLog', env: 'DECISION_LOG', flag: '--decision-log', kind: 'bool', default: 'true', description: 'write one decision-log line (pino, `name: "decision"`, level info) per evaluate / check' },
  { name: 'decisionLogSample', env: 'DECISION_LOG_SAMPLE', flag: '--decision-log-sample', kind: 'number', default: '1', min: 0, max: 1, description: 'fraction of decisions logged, 0 to 1 (decided before the line is built)' },
  { name: 'decisionLogRedact', env: 'DECISION_LOG_REDACT', flag: '--decision-log-redact', kind: 'list', default: '', description: 'comma-separated keys of subject/resource attributes and context (any depth) whose values decision-log lines and request samples replace with `[redacted]`, added to the built-in list (password, token, secret, api_key, cookie, authorization, session…; docs/security-state.md); keys compare lower-cased with all but letters and digits dropped (`X-API-Key` is `apikey`), and a key ending in an entry matches' },
  { name: 'decisionLogAttributes', env: 'DECISION_LOG_ATTRIBUTES', flag: '--decision-log-attributes', kind: 'bool', default: 'true', description: 'include subject/resource attributes and the context in decision-log lines (false drops them)' },
  { name: 'decisionShipNatsUrl', env: 'DECISION_SHIP_NATS_URL', flag: '--decision-ship-nats-url', kind: 'string', description: 'also publish decision-log records to NATS JetStream at this server (nats://host:port); batched, never blocking decisions (docs/audit.md)' },
  { name: 'decisionShipNatsSubject', env: 'DECISION_SHIP_NATS_SUBJECT', flag: '--decision-ship-nats-subject', kind: 'string', default: 'policy-engine.decisions', description: 'the JetStream subject decision records are published to (a stream must capture it)' },
  { name: 'decisionShipHttpUrl', env: 'DECISION_SHIP_HTTP_URL', flag: '--decision-ship-http-url', kind: 'string', description: 'also POST decision-log records, as a JSON array per batch, to this URL (docs/audit.md)' },
  { name: 'decisionShipBatch', env: 'DECISION_SHIP_BATCH', flag: '--decision-ship-batch', kind: 'int', default: '200', min: 1, max: 10000, description: 'most decision records sent in one batch' },
  { name: 'decisionShipFlushMs', env: 'DECISION_SHIP_FLUSH_MS', flag: '--decision-ship-flush-ms', kind: 'int', default: '1000', min: 10, max: 60000, description: 'longest a decision record waits before its batch is sent' },
  { name: 'decisionShipBuffer', env: 'DECISION_SHIP_BUFFER', flag: '--decision-ship-buffer', kind: 'int', default: '10000', min: 1, max: 10000000, description: 'most decision records held per sink while it is slow or down; past it new records are dropped and counted (policy_engine_decision_ship_dropped_total)' },
  { name: 'ui', env: 'UI_ENABLED', flag: '--ui', kind: 'bool', default: 'true', description: 'serve the policy playground at /ui (refused beyond loopback without ADMIN_TOKEN; with one, the page asks for it)' },
  { name: 'samples', env: 'SAMPLES_ENABLED', flag: '--samples', kind: 'bool', default: 'true', description: 'keep a ring of distinct recent evaluate / check inputs (redacted as decision logs are) for impact previews' },
  { name: 'samplesMax', env: 'SAMPLES_MAX', flag: '--samples-max', kind: 'int', default: '10000', min: 1, max: 100000, description: 'most request samples kept (the oldest is dropped first)' },
  { name: 'samplesMaxBytes', env: 'SAMPLES_MAX_BYTES', flag: '--samples-max-bytes', kind: 'int', default: '4194304', min: 65536, max: 1073741824, description: 'most bytes of request samples kept (each counted as its JSON text plus a fixed overhead); the oldest is dropped first' },
  { name: 'samplesPerSecond', env: 'SAMPLES_PER_SECOND', flag: '--samples-per-second', kind: 'int', default: '1000', min: 0, max: 1000000, description: 'most requests a second looked at for samples (0 = every one): bounds what sampling costs a busy sidecar' },
  { name: 'samplesShared', env: 'SAMPLES_SHARED', flag: '--samples-shared', kind: 'bool', default: 'false', description: 'with the MongoDB store, also keep samples in the `request_samples` collection so every replica previews against all of them' },
  { name: 'previewTimeoutMs', env: 'PREVIEW_TIMEOUT_MS', flag: '--preview-timeout-ms', kind: 'int', default: '10000', min: 100, max: 600000, description: 'an impact preview stops after this long and answers `complete: false` with what it evaluated' },
  { name: 'authzenNamespace', env: 'AUTHZEN_NAMESPACE', flag: '--authzen-namespace', kind: 'string', default: 'global', description: 'the namespace path of an AuthZEN request whose `context.namespace` and `resource.properties.namespace` are both absent (docs/authzen.md)' },
  { name: 'authzenPdpUrl', env: 'AUTHZEN_PDP_URL', flag: '--authzen-pdp-url', kind: 'string', description: 'the `policy_decision_point` identifier /.well-known/authzen-configuration announces (an https URL, no query); absent: the scheme and Host of the request' },
  { name: 'forwardAuthRoutes', env: 'FORWARD_AUTH_ROUTES', flag: '--forward-auth-routes', kind: 'string', description: 'a route table file (YAML or JSON, `kind: routes`) for /v1/forward-auth: method + path template → namespace path, permission, resource (docs/gateways.md); absent: every forward-auth request is denied (no route)' },
  { name: 'forwardAuthSubjectHeader', env: 'FORWARD_AUTH_SUBJECT_HEADER', flag: '--forward-auth-subject-header', kind: 'string', description: 'a header the gateway sets to the subject id after authenticating the caller itself (e.g. X-Auth-Request-User); trust it only when the gateway overwrites it on every request (docs/gateways.md)' },
  { name: 'jwtJwksFile', env: 'JWT_JWKS_FILE', flag: '--jwt-jwks-file', kind: 'string', description: 'a JWKS file (JSON `{"keys": [...]}`) whose public keys verify bearer JWTs: turns JWT subjects on (docs/jwt.md); re-read on an unknown `kid`, at most once per JWT_JWKS_COOLDOWN_MS' },
  { name: 'jwtJwksUrl', env: 'JWT_JWKS_URL', flag: '--jwt-jwks-url', kind: 'string', description: 'a JWKS URL (https, or http on loopback) instead of JWT_JWKS_FILE: fetched when first needed, cached for JWT_JWKS_MAX_AGE_MS, fetched again on an unknown `kid` at most once per JWT_JWKS_COOLDOWN_MS' },
  { name: 'jwtIssuer', env: 'JWT_ISSUER', flag: '--jwt-issuer', kind: 'string', description: 'the `iss` every JWT must carry (required with JWT subjects on)' },
  { name: 'jwtAudience', env: 'JWT_AUDIENCE', flag: '--jwt-audience', kind: 'list', default: '', description: 'comma-separated audiences: a JWT\'s `aud` must name one (required with JWT subjects on)' },
  { name: 'jwtAlgorithms', env: 'JWT_ALGORITHMS', flag: '--jwt-algorithms', kind: 'list', default: 'RS256,PS256,ES256,EdDSA', description: 'comma-separated signature algorithms accepted (asymmetric only: RS/PS/ES 256/384/512, EdDSA); `none` and HMAC are never accepted' },
  { name: 'jwtClockSkewMs', env: 'JWT_CLOCK_SKEW_MS', flag: '--jwt-clock-skew-ms', kind: 'int', default: '30000', min: 0, max: 300000, description: 'clock skew allowed when checking `exp` and `nbf`' },
  { name: 'jwtSubjectPrefix', env: 'JWT_SUBJECT_PREFIX', flag: '--jwt-subject-prefix', kind: 'string', default: 'user:', description: 'put before `sub` to make the subject id (`user:` + `alice` = `user:alice`, the directory ref); set to `-` for none' },
  { name: 'jwtRolesClaim', env: 'JWT_ROLES_CLAIM', flag: '--jwt-roles-claim', kind: 'string', default: 'roles', description: 'the claim holding the subject\'s roles (a list, or a space-separated string; a dotted path such as `realm_access.roles` reaches into objects)' },
  { name: 'jwtGroupsClaim', env: 'JWT_GROUPS_CLAIM', flag: '--jwt-groups-claim', kind: 'string', default: 'groups', description: 'the claim holding the subject\'s groups (as JWT_ROLES_CLAIM); every other claim becomes an attribute' },
  { name: 'jwtHeader', env: 'JWT_HEADER', flag: '--jwt-header', kind: 'string', default: 'authorization', description: 'the request header carrying the JWT: `authorization` (`Bearer <jwt>`; a bearer value that is not shaped as a JWT is left to the other token checks) or another name whose whole value is the JWT' },
  { name: 'jwtRequired', env: 'JWT_REQUIRED', flag: '--jwt-required', kind: 'bool', default: 'false', description: 'with JWT subjects on, evaluate and check refuse (401) a request without a JWT instead of taking the subject from the body' },
  { name: 'jwtJwksCooldownMs', env: 'JWT_JWKS_COOLDOWN_MS', flag: '--jwt-jwks-cooldown-ms', kind: 'int', default: '30000', min: 0, max: 3600000, description: 'least time between two reads of the JWKS (file or URL) caused by unknown `kid`s: a flood of forged kids costs one read per this period' },
  { name: 'jwtJwksMaxAgeMs', env: 'JWT_JWKS_MAX_AGE_MS', flag: '--jwt-jwks-max-age-ms', kind: 'int', default: '600000', min: 1000, max: 86400000, description: 'a fetched JWKS URL is used for this long before it is fetched again' },
  { name: 'jwtJwksTimeoutMs', env: 'JWT_JWKS_TIMEOUT_MS', flag: '--jwt-jwks-timeout-ms', kind: 'int', default: '5000', min: 100, max: 60000, description: 'longest wait for the JWKS URL; past it, tokens needing it are answered 503 TOKEN_KEYS_UNAVAILABLE' },
  { name: 'shutdownTimeoutMs', env: 'SHUTDOWN_TIMEOUT_MS', flag: '--shutdown-timeout-ms', kind: 'int', default: '10000', min: 100, max: 600000, description: 'on SIGTERM, longest wait for in-flight requests before exiting' },
];
