// Write-time checks of a Lua chunk: syntax (with line and column) and every use of a
// name the sandbox does not offer, so a script that would only fail at run time is
// refused when written. The sandbox enforces the same list at run time regardless.

import type luaparseModule from 'luaparse';
import { lazyPackage } from '../lazy-package.js';

const luaparse = lazyPackage<typeof luaparseModule>('luaparse');

/** Globals a script may read. Anything else free in the chunk is refused. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'ipairs', 'pairs', 'next', 'select', 'type', 'tostring', 'tonumber', 'error', 'assert',
  'string', 'table', 'math', 'utf8', 'policy',
]);

/** string functions left out: patterns run inside C, beyond the instruction budget; dump makes binary chunks. */
export const FORBIDDEN_STRING_FUNCTIONS: ReadonlySet<string> = new Set(['find', 'match', 'gmatch', 'gsub', 'dump']);

const TOO_DEEP = 'the script nests expressions or blocks too deeply to check';

export interface LuaProblem {
  message: string;
  line: number;
  column: number;
}

interface Node {
  type: string;
  [k: string]: unknown;
  loc?: { start: { line: number; column: number } };
}

function at(node: Node): { line: number; column: number } {
  return { line: node.loc?.start.line ?? 1, column: (node.loc?.start.column ?? 0) + 1 };
}

/**
 * Every syntax node under `root`, visited with an explicit stack (a chain of 30,000
 * operators is a tree 30,000 deep: recursion would overflow the JavaScript stack).
 */
function walk(root: unknown, visit: (node: Node) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      continue;
    }
    if (v === null || typeof v !== 'object' || typeof (v as Node).type !== 'string') continue;
    const node = v as Node;
    visit(node);
    for (const [k, child] of Object.entries(node)) if (k !== 'loc' && k !== 'range' && child !== null && typeof child === 'object') stack.push(child);
  }
}

/** Globals the chunk itself defines (`x = …`, `function f() … end`): it may use them. */
function assignedGlobals(body: Node[]): Set<string> {
  const out = new Set<string>();
  walk(body, (node) => {
    const targets = node.type === 'AssignmentStatement' ? (node.variables as Node[]) : node.type === 'FunctionDeclaration' && node.isLocal !== true ? [node.identifier as Node] : [];
    for (const t of targets) if (t && t.type === 'Identifier' && t.isLocal !== true) out.add(String(t.name));
  });
  return out;
}

/**
 * Check a chunk. `defines` are globals the chunk may assign (e.g. `can_execute`); they
 * may also be read. Returns every problem found, in source order.
 */
export function checkLuaChunk(source: string, defines: readonly string[] = []): LuaProblem[] {
  let ast: { globals?: Node[]; body: Node[] };
  try {
    ast = luaparse().parse(source, { scope: true, locations: true, luaVersion: '5.3', comments: false }) as unknown as typeof ast;
  } catch (err) {
    // luaparse descends recursively: deep nesting ((((…, a..b..c…, {{{…) overflows it.
    if (err instanceof RangeError) return [{ message: TOO_DEEP, line: 1, column: 1 }];
    const e = err as { message?: string; line?: number; column?: number };
    return [{ message: `syntax error: ${(e.message ?? String(err)).replace(/^\[\d+:\d+\] /, '')}`, line: e.line ?? 1, column: (e.column ?? 0) + 1 }];
  }
  const problems: LuaProblem[] = [];
  const allowed = new Set([...ALLOWED_GLOBALS, ...defines, ...assignedGlobals(ast.body)]);
  for (const g of ast.globals ?? []) {
    const name = String(g.name);
    if (!allowed.has(name)) problems.push({ message: `'${name}' is not available in the sandbox`, ...at(g) });
  }
  // string.find(...) / s:find(...) and friends.
  walk(ast.body, (node) => {
    if (node.type !== 'MemberExpression') return;
    const id = node.identifier as Node | undefined;
    const name = id && typeof id.name === 'string' ? id.name : undefined;
    const base = node.base as Node | undefined;
    const viaString = base?.type === 'Identifier' && base.name === 'string' && base.isLocal !== true;
    if (name && FORBIDDEN_STRING_FUNCTIONS.has(name) && (viaString || node.indexer === ':')) {
      problems.push({ message: `string.${name} is not available in the sandbox`, ...at(node) });
    }
  });
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}
