// The policy set and request of bench/plan.ts's latency measures (also bench/plan-profile.ts):
// 3 namespaces × 10 documents, conditions over subject, context and resource.

export function planDocuments(): string[] {
  const out: string[] = [];
  for (const ns of ['global', 'org', 'org:o7']) {
    for (let d = 0; d < 10; d++) {
      out.push(JSON.stringify({
        key: `${ns}-d${d}`, namespace: ns, ordinal: d,
        rules: [
          { id: 'own', subjects: ['*'], grant: [`document:read`], when: `resource.attributes.owner == subject.id && context.hour >= ${d}` },
          { id: 'status', subjects: ['role:member'], grant: ['document:*'], when: `resource.attributes.status in ['published', 'archived'] && subject.attributes.level > ${d % 3}` },
          { id: 'purge', subjects: ['*'], deny: ['document:purge'] },
          { id: 'secret', subjects: ['*'], revoke: ['document:read'], when: `resource.attributes.secret == true && !('admin' in subject.roles)` },
          { id: `team${d}`, subjects: [`group:team${d}`], grant: ['document:read'], when: `'x' in resource.attributes.tags || context.hour < ${d}` },
        ],
      }));
    }
  }
  return out;
}

export const PLAN_REQUEST = {
  subject: { id: 'user:alice', roles: ['member'], groups: ['team1'], attributes: { level: 2 } },
  namespace: 'global.org.org:o7', permission: 'document:read', resource: { type: 'document' }, context: { hour: 10 }, allowPartial: true,
};
