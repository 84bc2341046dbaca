// The policy test runner and Lua (issue 8 item 6): script cases check can_execute's
// result and emitted facts; a script's runtime error fails the case with its Lua line.
import t from 'tap';
import { initLua } from '../../../src/core/lua/sandbox.js';
import { parseSuite } from '../../../src/testing/parse-suite.js';
import { compileSuite } from '../../../src/testing/compile-suite.js';
import { runSuite } from '../../../src/testing/run-suite.js';

await initLua();

function run(yamlText: string) {
  const parsed = parseSuite(yamlText, 'yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const compiled = compileSuite(parsed.suite, () => ({ ok: false, problems: [] }) as never);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return runSuite(compiled.suite);
}

const SUITE = `name: scripts
policies:
  - key: global-attributes
    kind: registry
    facts:
      level: { type: number }
  - key: global-s
    kind: lua
    script: |
      function can_execute(subject, resource, context)
        policy.emit("level", #subject.roles)
        local limit = context.limit
        return limit > 2
      end
cases:
  - name: passes
    subject: { id: u, roles: [a, b] }
    policy: global-s
    context: { limit: 5 }
    expect: { result: true, facts: { level: 2 } }
  - name: wrong result
    subject: { id: u, roles: [a] }
    policy: global-s
    context: { limit: 1 }
    expect: { result: true }
  - name: wrong fact
    subject: { id: u, roles: [a] }
    policy: global-s
    context: { limit: 5 }
    expect: { result: true, facts: { level: 7 } }
  - name: runtime error
    subject: { id: u, roles: [a] }
    policy: global-s
    expect: { result: false }
`;

t.test('script cases', async (t) => {
  const r = run(SUITE);
  const byName = new Map(r.cases.map((c) => [c.name, c]));
  t.equal(byName.get('passes')?.passed, true);
  t.equal(byName.get('wrong result')?.passed, false);
  t.match(byName.get('wrong result')?.diff?.join('\n'), /result:\n {2}- true\n {2}\+ false/);
  t.equal(byName.get('wrong fact')?.passed, false);
  t.match(byName.get('wrong fact')?.diff?.join('\n'), /facts\.level:\n {2}- 7\n {2}\+ 1/);
  const failed = byName.get('runtime error');
  t.equal(failed?.passed, false, 'a script that fails never passes');
  t.match(failed?.diff?.join('\n'), /error: lua: script:4: attempt to compare (nil with number|number with nil)/, 'the failure names the Lua line');
});
