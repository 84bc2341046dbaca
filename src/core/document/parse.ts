// Turning request or file text into plain values: JSON or YAML, safely (size limits,
// no custom tags, no aliases, bounded depth), with a map from field paths to source
// positions so schema errors can say line and column.

import type * as yaml from 'js-yaml';
import { lazyPackage } from '../lazy-package.js';

const jsYaml = lazyPackage<typeof yaml>('js-yaml');
import type { DocumentError, DocumentFormat } from './types.js';

export interface ParseLimits {
  /** largest text accepted, in bytes */
  maxBytes: number;
  /** deepest nesting accepted */
  maxDepth: number;
  /** most documents in one multi-document stream */
  maxDocuments: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxBytes: 1024 * 1024, maxDepth: 64, maxDocuments: 1000 };

/** Field path (`rules[0].grant[1]`) → 1-based line and column. */
export type PositionIndex = Map<string, { line: number; column: number }>;

export interface ParsedText {
  value: unknown;
  /** the source text of this document alone (a slice of a multi-document stream) */
  text: string;
  positions?: PositionIndex;
}

export type ParseResult = { ok: true; documents: ParsedText[] } | { ok: false; errors: DocumentError[] };

const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);

/** The document format a Content-Type names, or undefined when it names neither. */
export function formatOfContentType(contentType: string | undefined): DocumentFormat | undefined {
  if (!contentType) return undefined;
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  if (base === 'application/json' || base.endsWith('+json')) return 'json';
  if (YAML_TYPES.has(base)) return 'yaml';
  return undefined;
}

/** Offsets where each line starts, built once per text (positions are asked for per node). */
let lineStartsOf: { text: string; starts: number[] } | undefined;
function lineColumn(text: string, offset: number): { line: number; column: number } {
  if (lineStartsOf?.text !== text) {
    const starts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    lineStartsOf = { text, starts };
  }
  const starts = lineStartsOf.starts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

function depthOf(value: unknown, limit: number): number {
  // Iterative so a hostile JSON nesting cannot overflow the stack here.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, d + 1]);
  }
  return max;
}

function parseJson(text: string, limits: ParseLimits, multi: boolean): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const m = /position (\d+)/.exec(message);
    const pos = m ? lineColumn(text, Number(m[1])) : {};
    return { ok: false, errors: [{ path: '', message: `malformed JSON: ${message.slice(0, 200)}`, ...pos }] };
  }
  if (depthOf(value, limits.maxDepth) > limits.maxDepth) {
    return { ok: false, errors: [{ path: '', message: `nesting deeper than ${limits.maxDepth} levels` }] };
  }
  if (multi) {
    if (!Array.isArray(value)) return { ok: false, errors: [{ path: '', message: 'expected a JSON array of documents' }] };
    if (value.length > limits.maxDocuments) {
      return { ok: false, errors: [{ path: '', message: `more than ${limits.maxDocuments} documents` }] };
    }
    return { ok: true, documents: value.map((v) => ({ value: v, text: JSON.stringify(v, null, 2) })) };
  }
  return { ok: true, documents: [{ value, text }] };
}

type Frame = { kind: 'map'; key: string | undefined; expectKey: boolean; path: string } | { kind: 'seq'; index: number; path: string };

function childPath(parent: string, part: string | number): string {
  if (typeof part === 'number') return `${parent}[${part}]`;
  return parent === '' ? part : `${parent}.${part}`;
}

/** Walk the parser's events once: split documents and index every field path. */
function indexEvents(text: string, events: yaml.Event[]): Array<{ start: number; end: number; positions: PositionIndex }> {
  const { EVENT_ID, getScalarValue } = jsYaml();
  const docs: Array<{ start: number; end: number; positions: PositionIndex }> = [];
  let stack: Frame[] = [];
  let positions: PositionIndex = new Map();
  let docStart = -1;
  let docEnd = -1;
  const note = (offset: number) => {
    if (offset < 0) return;
    if (docStart < 0 || offset < docStart) docStart = offset;
    if (offset > docEnd) docEnd = offset;
  };
  // The path a node about to open (or a scalar) takes, and whether it is a mapping key.
  const place = (offset: number): { path: string | undefined; isKey: boolean } => {
    note(offset);
    const top = stack[stack.length - 1];
    if (!top) return { path: '', isKey: false };
    if (top.kind === 'seq') return { path: childPath(top.path, top.index++), isKey: false };
    if (top.expectKey) return { path: undefined, isKey: true };
    top.expectKey = true;
    return { path: top.key === undefined ? undefined : childPath(top.path, top.key), isKey: false };
  };
  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        stack = [];
        positions = new Map();
        docStart = -1;
        docEnd = -1;
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const { path } = place(ev.start);
        const p = path ?? '?';
        if (path !== undefined) positions.set(path, lineColumn(text, ev.start));
        stack.push(ev.type === EVENT_ID.MAPPING ? { kind: 'map', key: undefined, expectKey: true, path: p } : { kind: 'seq', index: 0, path: p });
        break;
      }
      case EVENT_ID.SCALAR: {
        const { path, isKey } = place(ev.valueStart);
        note(ev.valueEnd);
        const top = stack[stack.length - 1];
        if (isKey && top?.kind === 'map') {
          top.key = getScalarValue(text, ev);
          top.expectKey = false;
          positions.set(childPath(top.path, top.key), lineColumn(text, ev.valueStart));
        } else if (path !== undefined && !positions.has(path)) {
          positions.set(path, lineColumn(text, ev.valueStart));
        }
        break;
      }
      case EVENT_ID.ALIAS:
        place(ev.anchorStart);
        break;
      case EVENT_ID.POP:
        if (stack.length > 0) stack.pop();
        else docs.push({ start: docStart, end: docEnd, positions });
        break;
    }
  }
  return docs;
}

function parseYaml(text: string, limits: ParseLimits, multi: boolean): ParseResult {
  let values: unknown[];
  let events: yaml.Event[];
  const { parseEvents, constructFromEvents, CORE_SCHEMA } = jsYaml();
  try {
    // js-yaml counts the document itself as a level: +1 keeps the limit equal to JSON's.
    events = parseEvents(text, { maxDepth: limits.maxDepth + 1 });
    // CORE schema: no custom or !!js tags (unknown tags throw); no aliases at all, which
    // policies never need and which is the only way to build an expansion bomb.
    values = constructFromEvents(events, { source: text, schema: CORE_SCHEMA, maxAliases: 0, maxTotalMergeKeys: 0 });
  } catch (err) {
    const e = err as { reason?: string; message?: string; mark?: { line: number; column: number } };
    const mark = e.mark ? { line: e.mark.line + 1, column: e.mark.column + 1 } : {};
    return { ok: false, errors: [{ path: '', message: `malformed YAML: ${(e.reason ?? e.message ?? String(err)).slice(0, 200)}`, ...mark }] };
  }
  if (values.length > limits.maxDocuments) {
    return { ok: false, errors: [{ path: '', message: `more than ${limits.maxDocuments} documents` }] };
  }
  const indexed = indexEvents(text, events);
  const documents: ParsedText[] = [];
  values.forEach((value, i) => {
    if (multi && (value === null || value === undefined)) return; // empty documents between `---`
    const idx = indexed[i];
    // Keep the whole text for a single document (comments included); slice a stream per document.
    const own = !multi || !idx || idx.start < 0 ? text : sliceDocument(text, idx.start);
    documents.push({ value, text: own, positions: idx?.positions });
  });
  if (!multi && documents.length !== 1) {
    return { ok: false, errors: [{ path: '', message: documents.length === 0 ? 'the document is empty' : 'expected one YAML document, got several' }] };
  }
  return { ok: true, documents };
}

const MARKER = /^(?:---|\.\.\.)(?=\s|$).*$/gm;

/**
 * The text of the document whose content starts at `offset` in a stream: from just after
 * the `---` line opening it (comments above its content included) to the next marker.
 */
function sliceDocument(text: string, offset: number): string {
  let from = 0;
  let to = text.length;
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(text); m; m = MARKER.exec(text)) {
    const lineEnd = m.index + m[0].length;
    if (lineEnd < offset) from = lineEnd + 1; // a marker line before the content
    else if (m.index <= offset) from = m.index + 3; // content on the marker line (`--- key: x`)
    else {
      to = m.index;
      break;
    }
  }
  return text.slice(from, to);
}

/**
 * Parse text as one document (`multi: false`) or a list of them (a JSON array or a
 * multi-document YAML stream). Never throws on bad input.
 */
export function parseText(text: string, format: DocumentFormat, limits: ParseLimits = DEFAULT_PARSE_LIMITS, multi = false): ParseResult {
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    return { ok: false, errors: [{ path: '', message: `larger than ${limits.maxBytes} bytes` }] };
  }
  return format === 'json' ? parseJson(text, limits, multi) : parseYaml(text, limits, multi);
}

/** Attach line/column to errors whose path the index knows (the nearest known parent otherwise). */
export function positionErrors(errors: DocumentError[], positions: PositionIndex | undefined): DocumentError[] {
  if (!positions) return errors;
  return errors.map((e) => {
    if (e.line !== undefined) return e;
    let path = e.path;
    for (;;) {
      const pos = positions.get(path);
      if (pos) return { ...e, ...pos };
      const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
      if (cut <= 0) return positions.get('') ? { ...e, ...positions.get('')! } : e;
      path = path.slice(0, cut);
    }
  });
}
