// A plan for a subject kept in the directory (docs/directory.md, SPEC §11 and §12): the
// stored roles, groups and attributes count in /v1/plan exactly as in /v1/check. For a few
// subjects (stored, stored plus sent roles, not stored) and permissions, the rows the
// plan's filter selects are the rows /v1/check allows, over every combination of the
// resource attributes the policy reads (missing ones included).
import t from 'tap';
import { putYaml, testApp } from '../helpers/app.js';
import { matches, type Filter } from '../../src/core/plan/filter.js';

const POLICY = [
  'key: global-docs', 'namespace: global', 'rules:',
  '  - subjects: ["role:editor"]', '    grant: ["doc:edit", "doc:read"]', "    when: resource.attributes.status != 'locked'",
  '  - subjects: ["role:viewer"]', '    grant: ["doc:read"]', "    when: resource.attributes.status == 'published'",
  '  - subjects: ["*"]', '    grant: ["doc:read"]', '    when: resource.attributes.owner == subject.id',
  '  - subjects: ["group:auditors"]', '    grant: ["doc:read"]',
  '  - subjects: ["*"]', '    deny: ["doc:edit"]', '    when: resource.attributes.level > subject.attributes.level',
  '',
].join('\n');

type Attributes = Record<string, string | number>;

/** Every combination of the attributes the policy reads, each also missing. */
function rows(): { id: string; attributes: Attributes }[] {
  const out: { id: string; attributes: Attributes }[] = [];
  let n = 0;
  for (const status of ['published', 'draft', 'locked', undefined]) {
    for (const owner of ['user:alice', 'user:bob', 'user:carol', undefined]) {
      for (const level of [0, 1, 2, 3, undefined]) {
        const attributes: Attributes = {};
        if (status !== undefined) attributes.status = status;
        if (owner !== undefined) attributes.owner = owner;
        if (level !== undefined) attributes.level = level;
        out.push({ id: `r${n++}`, attributes });
      }
    }
  }
  return out;
}

t.test('a stored subject plans as it checks: directory roles, groups and attributes', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', POLICY);
  const put = async (ref: string, body: object) => {
    const r = await app.inject({ method: 'PUT', url: `/v1/entities/${ref}`, payload: body });
    t.ok(r.statusCode === 200 || r.statusCode === 201, r.body);
  };
  await put('user:alice', { roles: ['editor'], attributes: { level: 2 } });
  await put('user:bob', { roles: ['viewer'], groups: ['auditors'], attributes: { level: 0 } });
  await put('user:dave', { roles: ['viewer'], attributes: { level: 1 } });

  const subjects: unknown[] = ['user:alice', 'user:bob', 'user:carol', 'user:dave', { id: 'user:dave', roles: ['editor'] }, { id: 'user:carol', roles: ['editor'], attributes: { level: 1 } }];
  const all = rows();
  let allowedRows = 0;
  const kinds = new Set<string>();
  for (const subject of subjects) {
    for (const permission of ['doc:read', 'doc:edit']) {
      const r = await app.inject({ method: 'POST', url: '/v1/plan', payload: { subject, namespace: 'global', permission, resource: { type: 'doc' } } });
      t.equal(r.statusCode, 200, r.body);
      const plan = r.json() as { kind: string; exact: boolean; filter: Filter; revision: string };
      t.equal(plan.exact, true);
      kinds.add(plan.kind);
      const stored = typeof subject === 'string' ? subject !== 'user:carol' : (subject as { id: string }).id !== 'user:carol';
      if (stored) t.match(plan.revision, /\+e\d+$/, 'the plan names the directory state it read');
      const mismatches: string[] = [];
      for (const row of all) {
        const c = await app.inject({ method: 'POST', url: '/v1/check', payload: { subject, namespace: 'global', permission, resource: { type: 'doc', id: row.id, attributes: row.attributes } } });
        t.equal(c.statusCode, 200, c.body);
        const allowed = (c.json() as { allowed: boolean }).allowed;
        if (allowed) allowedRows++;
        const selected = matches(plan.filter, (field) => (field === 'id' ? row.id : field.startsWith('attributes.') ? row.attributes[field.slice('attributes.'.length)] : undefined));
        if (selected !== allowed) mismatches.push(`${JSON.stringify(row.attributes)}: check ${allowed}, plan ${selected}`);
      }
      t.same(mismatches, [], `${JSON.stringify(subject)} ${permission}: the plan ${JSON.stringify(plan.filter)} selects exactly what check allows`);
    }
  }
  t.ok(allowedRows > 0 && kinds.has('conditional') && kinds.size >= 2, `${allowedRows} allowed rows, plan kinds ${[...kinds].join(', ')}`);
});
