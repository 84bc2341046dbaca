// Layer boundaries (issue 17 item 5): scripts/check-boundaries.mjs passes on src/, and
// each rule fails when broken — proved on the real tree with one synthetic file added
// or one import appended.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { checkBoundaries, readTree } from '../scripts/check-boundaries.mjs';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const tree = readTree(SRC);

/** The real tree with `file` added, or `text` appended to an existing file. */
function withFile(file: string, text: string): Map<string, string> {
  const out = new Map(tree);
  out.set(file, (out.get(file) ?? '') + '\n' + text + '\n');
  return out;
}

t.test('the tree keeps every rule', async (t) => {
  t.ok(tree.size > 100, `${tree.size} files read`);
  t.ok(tree.has('core/request.ts') && tree.has('core/evaluate/decide.ts'), 'the request contract and the decision function are in core');
  t.same(checkBoundaries(tree), []);
});

t.test('core importing a layer above it fails', async (t) => {
  const problems = checkBoundaries(withFile('core/evaluate/extra.ts', "import type { DecisionService } from '../../engine/decision-service.js';"));
  t.same(problems, ['core/evaluate/extra.ts: core imports engine/decision-service.ts (core imports only core/ and errors.ts)']);
  // Into a file the service itself imports, the same import is also a cycle.
  const both = checkBoundaries(withFile('core/evaluate/decide.ts', "import type { DecisionService } from '../../engine/decision-service.js';"));
  t.equal(both.length, 2, both.join('\n'));
  t.match(both[1], /^import cycle: core\/evaluate\/decide\.ts → engine\/decision-service\.ts → core\/evaluate\/decide\.ts$/);
});

t.test('core doing I/O fails; pure built-ins pass', async (t) => {
  t.match(checkBoundaries(withFile('core/x.ts', "import { readFileSync } from 'node:fs';")).join('\n'), /core\/x\.ts: core imports node:fs/);
  t.match(checkBoundaries(withFile('core/x.ts', "import fs from 'fs';")).join('\n'), /core imports fs/);
  t.match(checkBoundaries(withFile('core/x.ts', "import { createServer } from 'node:net';")).join('\n'), /createServer from node:net/);
  t.match(checkBoundaries(withFile('core/x.ts', "const m = await import('node:child_process');")).join('\n'), /core imports node:child_process/);
  t.same(checkBoundaries(withFile('core/x.ts', "import { isIP } from 'node:net';")), [], 'isIP is a pure function');
  t.same(checkBoundaries(withFile('core/x.ts', 'export const level = process.env.LOG_LEVEL;')), ['core/x.ts: core reads process state (process.…)']);
  t.same(checkBoundaries(withFile('core/x.ts', '// set process.env.X to change this\nexport const x = 1;')), [], 'a comment may mention it');
  t.match(checkBoundaries(withFile('core/x.json.ts', "import data from '../testing/thing.json' with { type: 'json' };")).join('\n'), /core imports \.\.\/testing\/thing\.json from outside core/);
});

t.test('store, cache and config never import engine, server or above', async (t) => {
  for (const [file, target] of [
    ['store/x.ts', '../engine/policy-manager.js'],
    ['cache/x.ts', '../server/app.js'],
    ['config/x.ts', '../cli/main.js'],
    ['store/x.ts', '../compose.js'],
  ] as const) {
    const problems = checkBoundaries(withFile(file, `import type { X } from '${target}';`));
    t.equal(problems.length, 1, `${file} → ${target}: ${problems.join('; ')}`);
    t.match(problems[0], new RegExp(`^${file.replace('.', '\\.')}: \\w+ \\(layer 1\\) imports`));
  }
});

t.test('an import cycle between files fails, type-only or not', async (t) => {
  const files = withFile('engine/a.ts', "import type { B } from './b.js';\nexport interface A { b: B }");
  files.set('engine/b.ts', "import { type A } from './a.js';\nexport interface B { a?: A }");
  const problems = checkBoundaries(files);
  t.same(problems, ['import cycle: engine/a.ts → engine/b.ts → engine/a.ts']);
});

t.test('a file outside every layer is named', async (t) => {
  t.match(checkBoundaries(withFile('widgets/x.ts', 'export const x = 1;')).join('\n'), /widgets\/x\.ts: not in a known layer/);
});
