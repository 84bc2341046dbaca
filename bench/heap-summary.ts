// A V8 heap snapshot (bench/rss.ts --heap-snapshot) summarised by constructor: self size
// and count per object constructor name, and per V8 node type for the rest (strings,
// compiled code, arrays, hidden objects). Self sizes only (no dominator tree): what each
// kind of object occupies itself, which sums to the heap size in the snapshot.
// Run: node --import tsx bench/heap-summary.ts out.heapsnapshot [--top 25]

import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: heap-summary.ts <file.heapsnapshot> [--top N]');
const topAt = process.argv.indexOf('--top');
const TOP = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const typeAt = fields.indexOf('type');
const nameAt = fields.indexOf('name');
const sizeAt = fields.indexOf('self_size');

const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + typeAt]!]!;
  const size = snap.nodes[i + sizeAt]!;
  total += size;
  // Objects by constructor; closures, strings, code, arrays… by their V8 type.
  const key = type === 'object' || type === 'native' ? `${snap.strings[snap.nodes[i + nameAt]!]}` : `(${type})`;
  const g = groups.get(key) ?? { count: 0, bytes: 0 };
  g.count++;
  g.bytes += size;
  groups.set(key, g);
}
// Backing stores ((array), ArrayBuffer data) say little by themselves: charge them to the
// constructor of the first object that holds them (its first strong, non-internal owner).
const nodeCount = snap.nodes.length / width;
const edgeWidth = snap.snapshot.meta.edge_fields.length;
const edgeTypes = snap.snapshot.meta.edge_types[0];
const edgeCountAt = fields.indexOf('edge_count');
const toAt = snap.snapshot.meta.edge_fields.indexOf('to_node');
const edgeTypeAt = snap.snapshot.meta.edge_fields.indexOf('type');
const owner = new Int32Array(nodeCount).fill(-1);
const ownerEdge = new Int32Array(nodeCount).fill(-1);
const nameOrIndexAt = snap.snapshot.meta.edge_fields.indexOf('name_or_index');
const elementEdge = edgeTypes.indexOf('element');
const hiddenEdge = edgeTypes.indexOf('hidden');
const weak = edgeTypes.indexOf('weak');
const shortcut = edgeTypes.indexOf('shortcut');
let e = 0;
for (let n = 0; n < nodeCount; n++) {
  const count = snap.nodes[n * width + edgeCountAt]!;
  for (let k = 0; k < count; k++, e += edgeWidth) {
    const t = snap.edges[e + edgeTypeAt]!;
    if (t === weak || t === shortcut) continue;
    const to = snap.edges[e + toAt]! / width;
    if (owner[to] === -1) {
      owner[to] = n;
      ownerEdge[to] = e;
    }
  }
}
const label = (n: number) => {
  const type = types[snap.nodes[n * width + typeAt]!]!;
  return type === 'object' || type === 'native' ? snap.strings[snap.nodes[n * width + nameAt]!]! : `(${type})`;
};
const charged = new Map<string, { count: number; bytes: number }>();
for (let n = 0; n < nodeCount; n++) {
  const l = label(n);
  if (l !== '(array)' && l !== 'system / JSArrayBufferData' && l !== '(hidden)') continue;
  // Walk up through other backing stores to an object with a name.
  let o = owner[n]!;
  for (let hops = 0; o >= 0 && hops < 4 && /^\((array|hidden)\)$|^system \/|^ArrayBuffer$/.test(label(o)); hops++) o = owner[o]!;
  let key = `${l} held by ${o >= 0 ? label(o) : '(root)'}`;
  // Plain arrays and objects: name the property of the named object above them.
  if (o >= 0 && /^(Array|Object|Map|Set)$/.test(label(o))) {
    let p = o;
    const path: string[] = [];
    for (let hops = 0; p >= 0 && hops < 6 && /^(Array|Object|Map|Set|\(array\)|\(hidden\))$/.test(label(p)); hops++) {
      const pe = ownerEdge[p]!;
      const et = pe >= 0 ? snap.edges[pe + edgeTypeAt]! : -1;
      if (pe >= 0 && et !== elementEdge && et !== hiddenEdge) path.unshift(String(snap.strings[snap.edges[pe + nameOrIndexAt]!]));
      p = owner[p]!;
    }
    key += ` ← ${p >= 0 ? label(p) : '(root)'}.${path.join('.')}`;
  }
  const g = charged.get(key) ?? { count: 0, bytes: 0 };
  g.count++;
  g.bytes += snap.nodes[n * width + sizeAt]!;
  charged.set(key, g);
}
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`total self size ${mib(total)} MiB in ${(snap.nodes.length / width).toLocaleString('en')} nodes`);
console.log('| constructor or (V8 type) | count | MiB | share |');
console.log('|---|---:|---:|---:|');
for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, TOP)) {
  console.log(`| ${key.replace(/\|/g, '\\|').slice(0, 60)} | ${g.count.toLocaleString('en')} | ${mib(g.bytes)} | ${((g.bytes / total) * 100).toFixed(1)}% |`);
}
console.log('\n| backing store, by its holder | count | MiB |');
console.log('|---|---:|---:|');
for (const [key, g] of [...charged].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, TOP)) {
  console.log(`| ${key.replace(/\|/g, '\\|').slice(0, 80)} | ${g.count.toLocaleString('en')} | ${mib(g.bytes)} |`);
}
