// The example policy many tests store: everyone reads documents, editors manage them but
// never purge. One builder, so the tests that need a variant say only how it differs.

export interface EditorsPolicyOptions {
  key?: string;
  /** a first comment line (kept by YAML stores, so byte-for-byte checks see it) */
  comment?: string;
  ordinal?: number;
  /** the editors rule's message; none when false */
  message?: string | false;
  /** more rules, as YAML list items */
  extraRules?: string;
}

export function editorsPolicy(options: EditorsPolicyOptions = {}): string {
  const { key = 'global-base', comment, ordinal, message = 'Purging documents needs an admin', extraRules = '' } = options;
  return [
    ...(comment !== undefined ? [`# ${comment}`] : []),
    `key: ${key}`,
    ...(ordinal !== undefined ? [`ordinal: ${ordinal}`] : []),
    'rules:',
    '  - id: readers',
    '    subjects: ["*"]',
    '    grant: ["document:read"]',
    '  - id: editors',
    '    subjects: ["role:editor"]',
    '    grant: ["document:*"]',
    '    deny: ["document:purge"]',
    ...(message !== false ? [`    message: ${message}`] : []),
  ].join('\n') + '\n' + extraRules;
}
