// Recorded changes held in this process (the memory stores' history, and the file
// stores' once read from their journals): ordered by revision, trimmed by age and count.

import { MAX_HISTORY_PAGE, DEFAULT_HISTORY_RETENTION_MS, type HistoryPage } from '../history.js';

/** Most entries kept in memory whatever the retention: a bound on this process's memory. */
const MAX_ENTRIES = 100_000;

export class InMemoryHistory<T extends { revision: string; at: string }> {
  private entries: T[] = [];
  /** the newest revision trimmed away (0: none); a reader behind it must start again */
  private dropped = 0;

  constructor(private readonly retentionMs = DEFAULT_HISTORY_RETENTION_MS) {}

  /** Start from entries read back (a journal), oldest first, and what was trimmed before them. */
  restore(entries: T[], dropped: number): void {
    this.entries = entries;
    this.dropped = dropped;
    this.trim();
  }

  add(entry: T): void {
    this.entries.push(entry);
    this.trim();
  }

  all(): readonly T[] {
    return this.entries;
  }

  /** Drop entries past the retention (and past the count bound), oldest first. */
  trim(now = Date.now()): void {
    const cutoff = new Date(now - this.retentionMs).toISOString();
    let drop = Math.max(0, this.entries.length - MAX_ENTRIES);
    // The newest always stays: it says where the sequence stands.
    while (drop < this.entries.length - 1 && this.entries[drop]!.at < cutoff) drop++;
    if (drop > 0) {
      this.dropped = Number(this.entries[drop - 1]!.revision);
      this.entries = this.entries.slice(drop);
    }
  }

  ofKey(match: (e: T) => boolean, page: { before?: number; limit: number }): HistoryPage<T> {
    const limit = Math.min(MAX_HISTORY_PAGE, page.limit);
    const out: T[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length <= limit; i--) {
      const e = this.entries[i]!;
      if (page.before !== undefined && Number(e.revision) >= page.before) continue;
      if (match(e)) out.push(e);
    }
    const entries = out.slice(0, limit);
    return out.length > limit ? { entries, next: entries[entries.length - 1]!.revision } : { entries };
  }

  since(revision: number, limit: number): { entries: T[]; last: number } | 'reset' {
    // Entries after `revision` were dropped: the reader must start again.
    if (revision < this.dropped) return 'reset';
    const out = this.entries.filter((e) => Number(e.revision) > revision).slice(0, Math.min(MAX_HISTORY_PAGE, limit));
    const last = out.length > 0 ? Number(out[out.length - 1]!.revision) : revision;
    return { entries: out, last };
  }
}
