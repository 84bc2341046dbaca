// Which keys of request attributes and context never reach a log line or a stored
// request sample: a built-in list of the usual secret names, extended (never narrowed)
// by DECISION_LOG_REDACT. Keys are compared in a normal form (lower case, everything
// but letters and digits dropped), and a key matches when its normal form *ends with*
// an entry's: `X-API-Key`, `api_key` and `apiKey` are all `apikey`, and
// `github_token`, `db_password` and `set-cookie` match `token`, `password`, `cookie`.
// Erring towards redacting: a log loses a value it did not need rather than keep a secret.

/** The built-in entries, as documented (each is normalised before use). */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'authorization', 'password', 'passwd', 'passphrase', 'token', 'secret', 'cookie',
  'api_key', 'apikey', 'access_token', 'refresh_token', 'private_key', 'client_secret',
  'session', 'session_id', 'credentials', 'jwt',
];

/** Lower case, letters and digits only: `X-Api_Key` → `xapikey`. */
export function normaliseRedactKey(key: string): string {
  return key.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** Distinct keys remembered; a request with many fresh keys only empties the memo. */
const MEMO_MAX = 10_000;

export class KeyRedactor {
  readonly entries: readonly string[];
  private readonly memo = new Map<string, boolean>();

  /** `extra`: configured keys, added to the built-in list. */
  constructor(extra: readonly string[] = []) {
    const normal = [...DEFAULT_REDACT_KEYS, ...extra].map(normaliseRedactKey).filter((k) => k !== '');
    this.entries = [...new Set(normal)];
  }

  /** Is the value under this key replaced? */
  matches(key: string): boolean {
    let hit = this.memo.get(key);
    if (hit === undefined) {
      const n = normaliseRedactKey(key);
      hit = this.entries.some((e) => n.endsWith(e));
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(key, hit);
    }
    return hit;
  }
}
