// The documentation holds together: the README stays short and links only to files that
// exist, docs/index.md lists every page in docs/, every relative link in README.md and
// docs/*.md resolves, the docs stand on their own (no reference to a spec that is not
// in the repository), and docs/layout.md names only directories that exist.
import t from 'tap';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const pages = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort();

/** Relative link targets of a markdown file: [text](target) and ![alt](target), without #anchors. */
export function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    out.push(target.split('#')[0]!);
  }
  return out;
}

t.test('the README is at most 15 KB and has its sections', async (t) => {
  const readme = read('README.md');
  t.ok(Buffer.byteLength(readme) <= 15 * 1024, `README.md is ${Buffer.byteLength(readme)} bytes`);
  for (const h of ['## Run it, test it', '## Your first policy, in five minutes', '## Endpoints', '## Configuration', '## Documentation']) {
    t.match(readme, h, `README has "${h}"`);
  }
});

t.test('docs/index.md lists every page in docs/', async (t) => {
  const index = read('docs/index.md');
  for (const page of pages.filter((p) => p !== 'index.md')) t.match(index, `](${page})`, `index lists ${page}`);
});

t.test('every relative link resolves', async (t) => {
  const files = ['README.md', ...pages.map((p) => `docs/${p}`)];
  const check = (files: string[]) => {
    const broken: string[] = [];
    for (const f of files) {
      for (const link of relativeLinks(read(f))) {
        if (link !== '' && !existsSync(resolve(join(ROOT, dirname(f)), link))) broken.push(`${f}: ${link}`);
      }
    }
    return broken;
  };
  t.same(check(files), [], 'no broken link');
  // The check can fail: a link to a file that does not exist is reported.
  t.same(relativeLinks('see [x](missing.md#a), [y](https://example.com), [z](#here)'), ['missing.md']);
});

t.test('the docs stand on their own: no reference to a SPEC that is not in the repository', async (t) => {
  for (const f of ['README.md', ...pages.map((p) => `docs/${p}`)]) {
    t.notMatch(read(f), /\bSPEC\b/, `${f} cites no SPEC`);
  }
});

t.test('docs/layout.md names only directories and files that exist', async (t) => {
  const layout = read('docs/layout.md');
  const block = /```\n([\s\S]*?)```/.exec(layout)![1]!;
  let parent = '';
  let named = 0;
  for (const line of block.split('\n')) {
    // A path at the start of a line (top level) or indented by two (inside the last top-level
    // directory); deeper indentation continues the description above.
    const m = /^( {0,2})([A-Za-z][\w./-]*)[,\s]/.exec(line);
    if (!m || (m[1]!.length === 1)) continue;
    const path = m[1]!.length === 2 ? parent + m[2]! : m[2]!;
    if (m[1]!.length === 0 && m[2]!.endsWith('/')) parent = m[2]!;
    t.ok(existsSync(join(ROOT, path)), `${path} exists`);
    named++;
  }
  t.ok(named >= 20, `${named} paths named`);
  // Every directory under src/ (two levels) appears in the layout.
  for (const dir of readdirSync(join(ROOT, 'src'))) {
    if (statSync(join(ROOT, 'src', dir)).isDirectory()) t.match(block, `src/${dir}/`, `layout has src/${dir}/`);
  }
});
