// Run: git archive main | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
//      node --import tsx bench/lua-ab.ts /tmp/before [rounds]
// A/B: the same Lua evaluations on main (before) and on sec-lua (after), interleaved
// in one process so machine load hits both alike; CPU time (not wall time, which the
// shared machine stretches), medians of per-round means.
const before = process.argv[2];
if (!before) throw new Error('usage: node --import tsx bench/lua-ab.ts <checkout of the code before> [rounds]');
const roots = { before, after: new URL('..', import.meta.url).pathname.replace(/\/$/, '') };
const docs = {
  chunk: `key: global-lua
rules:
  - subjects: ["*"]
    lua: |
      for _, r in ipairs(subject.roles) do if r == "admin" then return true end end
      for _, r in ipairs(subject.roles) do if r == "guest" then return false end end
      for _, r in ipairs(subject.roles) do
        if r == "editor" then return resource.attributes.content_length < 1024 and context.hour >= 9 and context.hour < 17 end
      end
      return false
    grant: ["document:delete"]
`,
  script: `key: global-script
kind: lua
reads: [subject, resource, context]
script: |
  local editors = { editor = true, writer = true }
  local function has_role(subject, wanted)
    for _, r in ipairs(subject.roles) do if wanted[r] then return true end end
    return false
  end
  local function working_hours(context) return context.hour >= 9 and context.hour < 17 end
  function can_execute(subject, resource, context)
    if has_role(subject, { admin = true }) then return { grant = { "document:delete" } } end
    if has_role(subject, editors) and resource.attributes.content_length < 1024 and working_hours(context) then
      return { grant = { "document:delete" } }
    end
    return false
  end
`,
  declared: `key: global-declared
kind: lua
reads: [subject.roles, resource.attributes.content_length, context.hour]
script: |
  function can_execute(subject, resource, context)
    for _, r in ipairs(subject.roles) do
      if r == "editor" and resource.attributes.content_length < 1024 and context.hour >= 9 and context.hour < 17 then return { grant = { "document:delete" } } end
    end
    return false
  end
`,
};
const input = {
  subject: { id: 'user:alice', roles: ['editor'], groups: [], attributes: { dept: 'ops', level: 3 } },
  resource: { type: 'document', id: 'd1', attributes: { content_length: 512, owner: 'bob' } },
  context: { hour: 10, ip: '10.0.0.1' },
  namespaces: ['global'],
};
const opts = { defaultPermissions: ['*'] };
const sides: Record<string, Record<string, () => unknown>> = {};
const get = <T>(v: T | undefined): T => { if (v === undefined) throw new Error('missing'); return v; };
for (const [side, root] of Object.entries(roots)) {
  const { initLua } = await import(`${root}/src/core/lua/sandbox.ts`);
  const { loadDocument } = await import(`${root}/src/core/compile/load-document.ts`);
  const { evaluatePolicies } = await import(`${root}/src/core/evaluate/evaluate.ts`);
  await initLua();
  sides[side] = {};
  for (const [name, yaml] of Object.entries(docs)) {
    const r = loadDocument(yaml, 'yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const p = r.loaded.policy;
    const d = evaluatePolicies([p], input, opts);
    if (d.permissions[0] !== 'document:delete') throw new Error(`${side} ${name}: ${JSON.stringify(d)}`);
    get(sides[side])[name] = () => evaluatePolicies([p], input, opts);
  }
}
const N = 300, ROUNDS = Number(process.argv[3] ?? 25);
const results: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(docs)) {
    for (const side of round % 2 ? ['after', 'before'] : ['before', 'after']) {
      const f = get(get(sides[side])[name]);
      const c0 = process.cpuUsage();
      for (let i = 0; i < N; i++) f();
      const c = process.cpuUsage(c0);
      (results[`${name} ${side}`] ??= []).push((c.user + c.system) / N);
    }
  }
}
const median = (xs: number[]) => get([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
const min = (xs: number[]) => Math.min(...xs);
for (const name of Object.keys(docs)) {
  const b = get(results[`${name} before`]), a = get(results[`${name} after`]);
  console.log(`${name.padEnd(9)} before: median ${median(b).toFixed(1)} µs (min ${min(b).toFixed(1)})  after: median ${median(a).toFixed(1)} µs (min ${min(a).toFixed(1)})  ratio of medians ${(median(a) / median(b)).toFixed(2)}, of mins ${(min(a) / min(b)).toFixed(2)}`);
}
