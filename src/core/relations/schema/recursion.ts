// Which recursion a schema may hold. Over the graph of definitions (`type#name`), an
// edge for every name a rewrite mentions, every arrow target and every userset a
// relation allows:
// - a cycle of permissions on the same object (`read: read`, `a: b` + `b: a`) never
//   reaches a tuple, so it can never be decided: refused;
// - a cycle through the subtracted side of `-` (`read: viewer - parent->read`) has no
//   well-defined answer (negation through recursion): refused;
// - every other cycle passes through an arrow or a userset, i.e. through tuples, and
//   is finite at run time (the engine's visited sets and depth limit handle it).
// Also the positive dependents the lookups walk backwards.

import type { Definition, Dependent, PermissionDef, Rewrite } from './types.js';

interface Edge {
  to: string;
  /** same object: no tuple between the two */
  local: boolean;
  negative: boolean;
}

function edgesOf(def: Definition): Edge[] {
  const out: Edge[] = [];
  if (def.kind === 'relation') {
    for (const a of def.allowed) if (a.kind === 'userset') out.push({ to: `${a.type}#${a.relation}`, local: false, negative: false });
    return out;
  }
  const walk = (r: Rewrite, negative: boolean): void => {
    switch (r.op) {
      case 'ref':
        out.push({ to: r.def.key, local: true, negative });
        return;
      case 'arrow':
        out.push({ to: r.via.key, local: true, negative });
        for (const t of r.targets.values()) out.push({ to: t.key, local: false, negative });
        return;
      case 'union':
      case 'intersection':
        for (const a of r.args) walk(a, negative);
        return;
      case 'exclusion':
        walk(r.base, negative);
        walk(r.subtract, true);
    }
  };
  walk(def.rewrite, false);
  return out;
}

/** Strongly connected components (iterative Tarjan: a schema may be long). */
function components(nodes: string[], next: (n: string) => string[]): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const comp = new Map<string, number>();
  let counter = 0;
  let compCount = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; children: string[]; i: number }> = [];
    const open = (n: string) => {
      index.set(n, counter);
      low.set(n, counter);
      counter++;
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, children: next(n), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.children.length) {
        const c = frame.children[frame.i++]!;
        if (!index.has(c)) open(c);
        else if (onStack.has(c)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(c)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        for (;;) {
          const n = stack.pop()!;
          onStack.delete(n);
          comp.set(n, compCount);
          if (n === frame.node) break;
        }
        compCount++;
      }
    }
  }
  return comp;
}

function placeOf(key: string, defs: Map<string, Definition>): string {
  const def = defs.get(key)!;
  return `${def.type}.${def.kind === 'relation' ? 'relations' : 'permissions'}.${def.name}`;
}

export function checkRecursion(types: Map<string, Map<string, Definition>>): Array<{ path: string; message: string }> {
  const all = new Map<string, Definition>();
  for (const defs of types.values()) for (const d of defs.values()) all.set(d.key, d);
  const edges = new Map<string, Edge[]>();
  for (const d of all.values()) edges.set(d.key, edgesOf(d));
  const nodes = [...all.keys()].sort();
  const errors: Array<{ path: string; message: string }> = [];

  // Same-object cycles.
  const localComp = components(nodes, (n) => edges.get(n)!.filter((e) => e.local).map((e) => e.to));
  const members = new Map<number, string[]>();
  for (const [n, c] of localComp) members.set(c, [...(members.get(c) ?? []), n]);
  for (const group of members.values()) {
    const first = group.sort()[0]!;
    const selfLoop = edges.get(first)!.some((e) => e.local && e.to === first);
    if (group.length === 1 && !selfLoop) continue;
    const names = group.map((k) => all.get(k)!.name);
    const cycle = group.length === 1 ? `${names[0]} → ${names[0]}` : `${names.join(' → ')} → ${names[0]}`;
    errors.push({ path: placeOf(first, all), message: `recursion that cannot terminate: ${cycle} refers back without an arrow or a userset in between` });
  }

  // Negative edges inside a cycle.
  const comp = components(nodes, (n) => edges.get(n)!.map((e) => e.to));
  for (const n of nodes) {
    for (const e of edges.get(n)!) {
      if (!e.negative || comp.get(n) !== comp.get(e.to)) continue;
      const target = all.get(e.to)!;
      errors.push({ path: placeOf(n, all), message: `'${target.type}#${target.name}' is subtracted with '-' but depends on this permission again: recursion through an exclusion has no well-defined answer` });
      break;
    }
  }
  return errors;
}

/** What depends on each definition through positive positions (for reverse lookups). */
export function dependentsOf(types: Map<string, Map<string, Definition>>): Map<string, Dependent[]> {
  const out = new Map<string, Dependent[]>();
  const add = (key: string, d: Dependent) => {
    const list = out.get(key);
    if (list) list.push(d);
    else out.set(key, [d]);
  };
  for (const defs of types.values()) {
    for (const def of defs.values()) {
      if (def.kind === 'relation') {
        for (const a of def.allowed) if (a.kind === 'userset') add(`${a.type}#${a.relation}`, { kind: 'userset', def, sure: true });
        continue;
      }
      const p: PermissionDef = def;
      // `sure` while every operator above the position is a union.
      const walk = (r: Rewrite, sure: boolean): void => {
        switch (r.op) {
          case 'ref':
            add(r.def.key, { kind: 'ref', def: p, sure });
            return;
          case 'arrow':
            for (const t of r.targets.values()) add(t.key, { kind: 'arrow', def: p, via: r.via.name, sure });
            return;
          case 'union':
            for (const a of r.args) walk(a, sure);
            return;
          case 'intersection':
            for (const a of r.args) walk(a, false);
            return;
          case 'exclusion':
            walk(r.base, false);
        }
      };
      walk(p.rewrite, true);
    }
  }
  return out;
}
