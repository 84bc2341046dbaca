// What the store conformance suite and the store tests share: sample policies built
// the way writers build them (text → loadDocument → NewPolicy), and small helpers for
// asserting on events that arrive asynchronously.

import { loadDocument } from '../core/compile/load-document.js';
import type { DocumentFormat } from '../core/document/types.js';
import type { NewPolicy, StoreEvent } from './store.js';

export interface SampleOptions {
  format?: DocumentFormat;
  ordinal?: number;
  /** explicit namespace field (needed when the namespace itself holds a `-`) */
  namespace?: string;
  grant?: string[];
  disabled?: boolean;
}

/** A valid policy built the way writers build one: text → loadDocument → NewPolicy. */
export function samplePolicy(key: string, options: SampleOptions = {}): NewPolicy {
  const format = options.format ?? 'json';
  const grant = options.grant ?? ['document:read'];
  let text: string;
  if (format === 'json') {
    const doc = {
      key,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.ordinal !== undefined ? { ordinal: options.ordinal } : {}),
      ...(options.disabled !== undefined ? { disabled: options.disabled } : {}),
      rules: [{ subjects: ['role:editor'], grant }],
    };
    // Odd spacing on purpose: the store must keep the text as written, not re-serialise it.
    text = `${JSON.stringify(doc, null, 3)}\n`;
  } else {
    text = [
      `# ${key}: comments and layout are part of the stored text`,
      `key: ${key}`,
      ...(options.namespace !== undefined ? [`namespace: "${options.namespace}"`] : []),
      ...(options.ordinal !== undefined ? [`ordinal: ${options.ordinal}`] : []),
      ...(options.disabled !== undefined ? [`disabled: ${options.disabled}`] : []),
      'rules:',
      '  - subjects: ["role:editor"]   # who',
      `    grant: [${grant.map((g) => JSON.stringify(g)).join(', ')}]`,
      '',
    ].join('\n');
  }
  const loaded = loadDocument(text, format);
  if (!loaded.ok) throw new Error(`sample policy ${key} does not load: ${JSON.stringify(loaded.errors)}`);
  const { policy, document } = loaded.loaded;
  return {
    key: policy.key,
    namespace: policy.namespace,
    ordinal: policy.ordinal ?? null,
    disabled: policy.disabled,
    format,
    text: loaded.loaded.text,
    document,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until `done()` holds or `ms` pass; returns whether it held. */
export async function waitUntil(done: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/** Events that change something: an idempotent put (same etag as the key's last event) is dropped. */
export function meaningfulEvents(events: readonly StoreEvent[]): StoreEvent[] {
  const last = new Map<string, string | undefined>();
  return events.filter((e) => {
    if (e.type === 'reset') return true;
    const key = e.type === 'put' ? e.record.key : e.key;
    const etag = e.type === 'put' ? e.record.etag : undefined;
    if (last.has(key) && last.get(key) === etag) return false;
    last.set(key, etag);
    return true;
  });
}
