// The example policy many tests store: everyone reads documents, editors manage them but
// never purge. One builder, so the tests that need a variant say only how it differs.
export function editorsPolicy(options = {}) {
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
