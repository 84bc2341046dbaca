// The file store (SPEC §6): a directory of `.json` / `.yaml` / `.yml` policy files,
// watched so an edited, added or removed file takes effect without a restart, and
// written atomically through the API. Also reads a Kubernetes ConfigMap volume
// (top-level symlinks into a `..data` directory that is swapped on update).
//
// How changes are found: any watcher event marks the directory dirty and schedules a
// re-scan ~50 ms later; the re-scan diffs the keys and etags it finds against what it
// knew and emits put/delete events. Reading the whole directory (cheap: files whose
// stat is unchanged are not re-read) is what makes editors' atomic saves and ConfigMap
// swaps, which arrive as odd sequences of rename events, come out right.

import { RevisionCounter } from '../revision-counter.js';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys, pageOf } from '../list-page.js';
import { checkPreconditions } from '../preconditions.js';
import { Subscribers } from '../subscribers.js';
import {
  StoreUnavailableError, UNPLACED_NAMESPACE, recordOf,
  type ListPage, type ListQuery, type NewPolicy, type PolicyRecord, type PutResult,
  type Snapshot, type StoreEvent, type SubscribableStore, type WriteOptions,
} from '../store.js';
import { textBacked } from '../text-backed.js';
import { syncDirectory, writeFileAtomic } from './atomic-write.js';
import { JOURNAL_NAME, PolicyJournal, recoveryPlan } from './policy-journal.js';
import { InMemoryHistory } from '../memory/in-memory-history.js';
import { DEFAULT_HISTORY_RETENTION_MS, FILE_ACTOR, UNKNOWN_ACTOR, type HistoryPage, type PolicyChange, type PolicyHistory } from '../history.js';
import { brokenRecordOf, fileNameOf, formatOfFileName, scanPolicyDir, type FileProblem, type LoadCache, type PolicyFile } from './policy-dir.js';

export interface FileStoreLogger {
  warn(obj: object, msg: string): void;
}

export interface FileStoreOptions {
  dir: string;
  logger?: FileStoreLogger;
  /** how long after a change on disk the directory is re-read, in ms (default 50) */
  settleMs?: number;
  /** how often the directory is checked for being there and readable, in ms (default 1000) */
  probeMs?: number;
  /** how long recorded changes are kept in the journal, in ms */
  historyRetentionMs?: number;
  /** tests only: runs between a write's journal line and its file */
  afterJournal?: (entry: PolicyChange) => Promise<void>;
}

function versionOf(r: PolicyRecord): PolicyChange['before'] {
  return { format: r.format, text: r.text, etag: r.etag };
}

const DEFAULT_SETTLE_MS = 50;
const DEFAULT_PROBE_MS = 1000;

function fsFailure(what: string, err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`${what}: ${(err as Error).message}`, { cause: err });
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export class FileStore implements SubscribableStore, PolicyHistory {
  readonly kind = 'file' as const;
  readonly dir: string;
  private readonly logger: FileStoreLogger;
  private readonly settleMs: number;
  private readonly probeMs: number;
  private readonly subscribers: Subscribers;
  /** key → the file that defines it, as last seen (or written by us) */
  private byKey = new Map<string, PolicyFile>();
  /** key → every file holding it; a write or delete of the key takes care of them all */
  private filesByKey = new Map<string, string[]>();
  private problemList: FileProblem[] = [];
  /** problems already logged, so a re-scan does not repeat a warning every time */
  private logged = new Set<string>();
  private cache: LoadCache = new Map();
  private readonly revisions = new RevisionCounter();
  /** the history journal; undefined when the directory is read-only (a ConfigMap: nothing writes it) */
  private journal: PolicyJournal | undefined;
  private readonly history: InMemoryHistory<PolicyChange>;
  /** re-scans and writes run one at a time, in order (a promise chain as the lock) */
  private queue: Promise<unknown> = Promise.resolve();
  /** the disk may have changed since the last scan */
  private dirty = true;
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  /** file name → watcher of a top-level symlink's target */
  private readonly linkWatchers = new Map<string, FSWatcher>();
  private probeTimer: NodeJS.Timeout | undefined;
  private opened = false;
  private closed = false;
  /**
   * Why the directory cannot be read now (removed, replaced by a file, permissions), or
   * undefined. Entering and leaving this state send a `reset`: the manager's reload then
   * fails (its state turns stale, as with any unreachable store) or succeeds.
   */
  private failure: string | undefined;

  constructor(options: FileStoreOptions) {
    this.dir = options.dir;
    this.logger = options.logger ?? { warn: () => {} };
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.probeMs = options.probeMs ?? DEFAULT_PROBE_MS;
    this.subscribers = new Subscribers((err) => this.logger.warn({ err }, 'policy store subscriber failed'));
    this.history = new InMemoryHistory(options.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS);
    this.journalOptions = options;
  }

  private readonly journalOptions: FileStoreOptions;

  async keyHistory(key: string, page: { before?: number; limit: number }): Promise<HistoryPage<PolicyChange>> {
    return this.whenOpen(async () => this.history.ofKey((e) => e.key === key, page));
  }

  async historySince(revision: number, limit: number): Promise<{ entries: PolicyChange[]; last: number } | 'reset'> {
    return this.whenOpen(async () => this.history.since(revision, limit));
  }

  /** Record a change: the journal line first (durable), then the in-memory history. */
  private record(entry: PolicyChange): void {
    this.journal?.append(entry);
    this.history.add(entry);
    if (this.journal?.due) {
      try {
        this.journal.compact();
      } catch (err) {
        this.logger.warn({ err, dir: this.dir }, 'cannot compact the policy history journal; it grows until the next try');
      }
    }
  }

  private entry(fields: Omit<PolicyChange, 'kind' | 'revision' | 'at'>): PolicyChange {
    return { kind: 'policy', revision: this.revisions.next(), at: new Date().toISOString(), ...fields };
  }

  /** Open the journal, or run without history where the directory cannot be written. */
  private openJournal(): ReturnType<PolicyJournal['open']> | undefined {
    const journal = new PolicyJournal(this.dir, this.journalOptions.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS, (m) => this.logger.warn({ dir: this.dir }, m));
    try {
      const contents = journal.open();
      this.journal = journal;
      return contents;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
        this.logger.warn({ dir: this.dir, err: (err as Error).message }, 'the policy directory is read-only: no change history is kept (nothing can write policies through the API either)');
        return undefined;
      }
      throw fsFailure(`cannot open the policy history journal in ${this.dir}`, err);
    }
  }

  /**
   * After the first scan: finish writes whose journal line made it but whose file did not
   * (a crash between the two), and record what changed on disk while no one watched.
   */
  private async recover(lastByKey: ReadonlyMap<string, PolicyChange>): Promise<void> {
    const disk = new Map([...this.byKey].filter(([, f]) => !f.broken).map(([k, f]) => [k, { namespace: f.record.namespace, format: f.record.format, text: f.record.text, etag: f.record.etag }]));
    const plan = recoveryPlan(lastByKey, disk);
    for (const line of plan.redo) {
      const files = this.filesByKey.get(line.key) ?? [];
      const target = line.after === null ? undefined : fileNameOf(line.key, line.after.format);
      if (line.after !== null) await writeFileAtomic(this.dir, target!, line.after.text, line.key);
      for (const f of files) if (f !== target) await unlinkIfPresent(join(this.dir, f));
      await syncDirectory(this.dir);
      this.logger.warn({ dir: this.dir, key: line.key, revision: line.revision }, 'finished a policy write interrupted before its file was written (its history line was already recorded)');
      this.dirty = true;
    }
    if (plan.redo.length > 0) await this.settle();
    for (const u of plan.unrecorded) {
      this.record(this.entry({ actor: FILE_ACTOR, key: u.key, namespace: u.namespace, op: u.after === null ? 'delete' : 'put', before: u.before, after: u.after }));
    }
  }

  async open(): Promise<void> {
    if (this.opened) return;
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw fsFailure(`cannot create the policy directory ${this.dir}`, err);
    }
    const contents = this.openJournal();
    if (contents !== undefined) {
      const first = contents.entries[0];
      this.history.restore(contents.entries, first === undefined ? 0 : Number(first.revision) - 1);
      this.revisions.startAt(contents.last);
    }
    // Watch before the first scan, so a change made while scanning is not lost.
    const watcher = await this.startWatcher();
    this.watcher = watcher;
    try {
      await this.serial(async () => {
        await this.settle();
        if (contents !== undefined) await this.recover(contents.lastByKey);
      });
    } catch (err) {
      this.journal?.close();
      this.watcher = undefined;
      watcher.close();
      this.closeLinkWatchers();
      throw err;
    }
    this.opened = true;
    // Watcher events do not say that the directory went away (or was never re-created):
    // a cheap stat every probeMs does, and retries the read while it fails.
    this.probeTimer = setInterval(() => void this.probe(), this.probeMs);
    this.probeTimer.unref();
  }

  /**
   * One watcher on the directory itself (inotify reports every entry created, removed,
   * renamed or written, `..data` swaps included): not one per file, which cost ~10,000
   * watchers and their objects for 10,000 documents. Subdirectories are not watched. The
   * re-scan debounce does the work of waiting for a write to finish.
   */
  private async startWatcher(): Promise<FSWatcher> {
    // The journal's own appends are no change to the policies.
    const watcher = watch(this.dir, (_event, name) => {
      if (name !== JOURNAL_NAME) this.diskChanged();
    });
    watcher.on('error', (err) => this.logger.warn({ err, dir: this.dir }, 'policy directory watcher failed'));
    return watcher;
  }

  /**
   * Top-level symlinks to files are watched one by one as well, so an edit of a linked
   * file's target (outside the directory, or in `..data`) is seen, as it was when every
   * entry was followed. Called after each re-scan; there are few such links in practice.
   */
  private async watchLinks(): Promise<void> {
    let entries;
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch {
      return;
    }
    const links = new Set(entries.filter((e) => e.isSymbolicLink() && formatOfFileName(e.name) !== undefined).map((e) => e.name));
    for (const [name, w] of this.linkWatchers) {
      if (!links.has(name)) {
        w.close();
        this.linkWatchers.delete(name);
      }
    }
    if (this.closed) return;
    for (const name of links) {
      if (this.linkWatchers.has(name)) continue;
      try {
        const w = watch(join(this.dir, name), () => this.diskChanged());
        w.on('error', () => {
          w.close();
          this.linkWatchers.delete(name);
          this.diskChanged();
        });
        this.linkWatchers.set(name, w);
      } catch {
        // A dangling link: the re-scan skips it; a later event re-checks.
      }
    }
  }

  private closeLinkWatchers(): void {
    for (const w of this.linkWatchers.values()) w.close();
    this.linkWatchers.clear();
  }

  /** Healthy: is the directory still there? Failing: can it be read again? */
  private async probe(): Promise<void> {
    if (this.closed) return;
    if (this.failure === undefined) {
      try {
        await this.ping();
        return;
      } catch (err) {
        this.dirty = true;
        this.noteFailure((err as Error).message);
        return;
      }
    }
    this.dirty = true;
    await this.serial(() => this.settle()).catch(() => {});
  }

  private noteFailure(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = message;
    this.logger.warn({ dir: this.dir, err: message }, 'cannot read the policy directory; the policy state is stale until it can be read again');
    if (this.opened && !this.closed) this.subscribers.emit({ type: 'reset', revision: this.revisions.current() });
  }

  private noteRecovery(): void {
    if (this.failure === undefined) return;
    this.failure = undefined;
    this.logger.warn({ dir: this.dir }, 'the policy directory can be read again');
    if (!this.opened || this.closed) return;
    this.subscribers.emit({ type: 'reset', revision: this.revisions.current() });
    // The directory may be a new one (removed and created again): watch that one.
    void this.restartWatcher();
  }

  private async restartWatcher(): Promise<void> {
    const old = this.watcher;
    try {
      const watcher = await this.startWatcher();
      if (this.closed) {
        watcher.close();
        return;
      }
      this.watcher = watcher;
      old?.close();
      // The links of a re-created directory are other files: watch them afresh.
      this.closeLinkWatchers();
      this.diskChanged();
    } catch (err) {
      this.logger.warn({ dir: this.dir, err: (err as Error).message }, 'cannot watch the policy directory again');
    }
  }

  async loadAll(): Promise<Snapshot> {
    return this.whenOpen(async () => ({ records: [...this.byKey.values()].map((f) => f.record), revision: this.revisions.current() }));
  }

  async get(key: string): Promise<PolicyRecord | undefined> {
    return this.whenOpen(async () => this.byKey.get(key)?.record);
  }

  async list(query: ListQuery): Promise<ListPage> {
    return this.whenOpen(async () => pageOf([...this.byKey.values()].map((f) => f.record), query));
  }

  async put(policy: NewPolicy, options?: WriteOptions): Promise<PutResult> {
    return this.whenOpen(() => this.write(policy, options));
  }

  /** Written in order; a failure midway leaves the earlier files written (the caller validated all first). */
  async putMany(policies: NewPolicy[], options?: { actor?: string }): Promise<{ revision: string; created: number; replaced: number }> {
    return this.whenOpen(async () => {
      let created = 0;
      for (const p of policies) {
        if ((await this.write(p, options)).created) created++;
      }
      return { revision: this.revisions.current(), created, replaced: policies.length - created };
    });
  }

  async delete(key: string, options?: WriteOptions): Promise<{ revision: string } | false> {
    return this.whenOpen(async () => {
      const current = this.byKey.get(key);
      checkPreconditions(key, current?.record.etag, options);
      if (current === undefined) return false;
      const files = this.filesByKey.get(key) ?? [current.file];
      const entry = this.entry({ actor: options?.actor ?? UNKNOWN_ACTOR, key, namespace: current.record.namespace, op: 'delete', before: versionOf(current.record), after: null });
      this.record(entry);
      await this.journalOptions.afterJournal?.(entry);
      try {
        // Every file holding the key, or a shadowed duplicate would take its place.
        for (const f of files) await unlinkIfPresent(join(this.dir, f));
        await syncDirectory(this.dir);
      } catch (err) {
        this.abort(entry);
        throw fsFailure(`cannot delete policy ${key}`, err);
      }
      this.byKey.delete(key);
      this.filesByKey.delete(key);
      this.problemList = this.problemList.filter((p) => !files.includes(p.file));
      const revision = entry.revision;
      this.subscribers.emit({ type: 'delete', key, namespace: current.record.namespace, revision });
      return { revision };
    });
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.subscribers.add(listener);
  }

  /** Files that failed to load, or are ignored because an earlier file defines their key. */
  problems(): Array<{ file: string; errors: FileProblem['errors'] }> {
    return this.problemList.map((p) => ({ file: p.file, errors: [...p.errors] }));
  }

  async ping(): Promise<void> {
    let isDir: boolean;
    try {
      isDir = (await stat(this.dir)).isDirectory();
    } catch (err) {
      throw fsFailure(`policy directory ${this.dir} is not reachable`, err);
    }
    if (!isDir) throw new StoreUnavailableError(`policy directory ${this.dir} is not a directory`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.probeTimer);
    this.subscribers.clear();
    this.watcher?.close();
    this.closeLinkWatchers();
    await this.queue;
    this.journal?.close();
  }

  /** The file write of a recorded change failed: say so in the journal, so recovery does not finish it. */
  private abort(entry: PolicyChange): void {
    try {
      this.journal?.append({ kind: 'abort', revision: entry.revision });
    } catch {
      // The disk refuses writes: the next open finds the key at `before` and finishes the change.
    }
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Run `task` in turn, on a view brought up to date with the disk first. */
  private whenOpen<T>(task: () => Promise<T>): Promise<T> {
    if (!this.opened || this.closed) {
      return Promise.reject(new Error(`FileStore: the store is ${this.closed ? 'closed' : 'not open (call open() first)'}`));
    }
    return this.serial(async () => {
      await this.settle();
      return task();
    });
  }

  /** A watcher event: re-scan soon. Not re-armed by later events, so a storm cannot postpone it. */
  private diskChanged(): void {
    this.dirty = true;
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failure is noted (and logged once) by settle().
      this.serial(() => this.settle()).catch(() => {});
    }, this.settleMs);
    this.timer.unref();
  }

  /** Bring the in-memory view up to date with the disk (only when something changed). */
  private async settle(): Promise<void> {
    if (!this.dirty) return;
    // Cleared first: an event during the scan marks it dirty again and gets its own scan.
    this.dirty = false;
    try {
      await this.rescan();
      await this.watchLinks();
    } catch (err) {
      this.dirty = true;
      const failure = fsFailure(`cannot read the policy directory ${this.dir}`, err);
      this.noteFailure(failure.message);
      throw failure;
    }
    this.noteRecovery();
  }

  private async rescan(): Promise<void> {
    const scan = await scanPolicyDir(this.dir, this.cache);
    this.cache = scan.cache;
    const next = new Map(scan.byKey);
    const kept = new Map<string, string>();
    for (const [key, prev] of this.byKey) {
      if (prev.broken || !scan.failed.has(prev.file)) continue;
      // The file that defined this key is now broken (half-written, or a bad edit). Keep
      // its last good version: dropping the key could leave a namespace path with no
      // document at all, which answers with the default grant; and a shadowed duplicate
      // taking over mid-edit would be a surprise too.
      const shadowed = scan.filesByKey.get(key) ?? [];
      const taker = shadowed[0];
      if (taker !== undefined && !scan.problems.some((p) => p.file === taker)) {
        scan.problems.push({
          file: taker,
          errors: [{ document: key, path: 'key', message: `key ${key} is kept from ${prev.file} (its last good version); this file is ignored` }],
        });
      }
      next.set(key, prev);
      scan.filesByKey.set(key, [prev.file, ...shadowed]);
      kept.set(prev.file, key);
    }
    // A broken file with no good version to keep is still a document: it goes to the
    // manager as a record that does not compile, so its namespace answers 503
    // POLICY_STATE_BROKEN instead of running without the deny it may hold.
    const brokenIn = new Map<string, string>();
    for (const [file, broken] of scan.failed) {
      if (kept.has(file)) continue;
      const record = brokenRecordOf(file, broken);
      // A good file (or a kept version) already defines this key: this one is a duplicate, ignored as any.
      if (next.has(record.key)) continue;
      next.set(record.key, { file, record, broken: true });
      scan.filesByKey.set(record.key, [file]);
      brokenIn.set(file, record.namespace);
    }
    scan.problems.sort((a, b) => compareKeys(a.file, b.file));
    this.logNewProblems(scan.problems, kept, brokenIn);
    this.problemList = scan.problems;

    const events: StoreEvent[] = [];
    for (const [key, found] of next) {
      const prev = this.byKey.get(key);
      if (prev !== undefined && prev.record.etag === found.record.etag) {
        // Same content (perhaps our own write coming back): no event, keep its updatedAt.
        next.set(key, { ...found, record: prev.record });
      } else if (this.opened) {
        // Changed on disk, not through the API: recorded as the file system's.
        const e = this.entry({ actor: FILE_ACTOR, key, namespace: found.record.namespace, op: 'put', before: prev === undefined ? null : versionOf(prev.record), after: versionOf(found.record) });
        this.record(e);
        events.push({ type: 'put', record: found.record, revision: e.revision });
      }
    }
    for (const [key, prev] of this.byKey) {
      if (!next.has(key) && this.opened) {
        const e = this.entry({ actor: FILE_ACTOR, key, namespace: prev.record.namespace, op: 'delete', before: versionOf(prev.record), after: null });
        this.record(e);
        events.push({ type: 'delete', key, namespace: prev.record.namespace, revision: e.revision });
      }
    }
    this.byKey = next;
    this.filesByKey = scan.filesByKey;
    for (const e of events) this.subscribers.emit(e);
  }

  private logNewProblems(problems: FileProblem[], kept: Map<string, string>, brokenIn: Map<string, string>): void {
    const now = new Set<string>();
    for (const p of problems) {
      const id = `${p.file}\0${JSON.stringify(p.errors)}`;
      now.add(id);
      if (this.logged.has(id)) continue;
      const keeping = kept.get(p.file);
      const namespace = brokenIn.get(p.file);
      this.logger.warn(
        { dir: this.dir, file: p.file, errors: p.errors, ...(keeping !== undefined ? { keeping } : {}), ...(namespace !== undefined ? { namespace } : {}) },
        keeping !== undefined
          ? 'policy file does not load; keeping the last good version of its policy'
          : namespace === UNPLACED_NAMESPACE
            ? 'policy file does not load and its namespace cannot be read: every path answers 503 POLICY_STATE_BROKEN until it is fixed or removed'
            : namespace !== undefined
              ? 'policy file does not load: its namespace answers 503 POLICY_STATE_BROKEN until it is fixed or removed'
              : 'policy file skipped',
      );
    }
    this.logged = now;
  }

  private async write(policy: NewPolicy, options: WriteOptions | undefined): Promise<PutResult> {
    const current = this.byKey.get(policy.key);
    checkPreconditions(policy.key, current?.record.etag, options);
    const file = fileNameOf(policy.key, policy.format);
    const replacedBroken: PolicyFile[] = [];
    for (const [other, files] of this.filesByKey) {
      if (other === policy.key || !files.includes(file)) continue;
      // A file that does not load, under this key's file name: the write replaces it.
      const holder = this.byKey.get(other);
      if (holder?.broken && holder.file === file) {
        replacedBroken.push(holder);
        continue;
      }
      // Someone named a file after this key but put another policy in it: never clobber it.
      throw new Error(`cannot write policy ${policy.key}: ${file} in ${this.dir} holds policy ${other}; rename that file`);
    }
    const stale = (this.filesByKey.get(policy.key) ?? []).filter((f) => f !== file);
    // The file's text is the document: the record keeps it, not its parsed tree (text-backed.ts).
    const record = recordOf(textBacked(policy));
    const actor = options?.actor ?? UNKNOWN_ACTOR;
    // Journal first (write-ahead): the broken files this write replaces, then the write.
    const brokenEntries = replacedBroken.map((b) => this.entry({ actor, key: b.record.key, namespace: b.record.namespace, op: 'delete', before: versionOf(b.record), after: null }));
    for (const e of brokenEntries) this.record(e);
    const entry = this.entry({ actor, key: policy.key, namespace: policy.namespace, op: 'put', before: current === undefined || current.broken ? null : versionOf(current.record), after: versionOf(record) });
    this.record(entry);
    await this.journalOptions.afterJournal?.(entry);
    try {
      await writeFileAtomic(this.dir, file, policy.text, policy.key);
      // The key's other files: the old format's, a differently named one, shadowed duplicates.
      for (const f of stale) await unlinkIfPresent(join(this.dir, f));
      if (stale.length > 0) await syncDirectory(this.dir);
    } catch (err) {
      for (const e of [...brokenEntries, entry]) this.abort(e);
      throw fsFailure(`cannot write policy ${policy.key}`, err);
    }
    replacedBroken.forEach((b, i) => {
      this.byKey.delete(b.record.key);
      this.filesByKey.delete(b.record.key);
      this.subscribers.emit({ type: 'delete', key: b.record.key, namespace: b.record.namespace, revision: brokenEntries[i]!.revision });
    });
    this.byKey.set(policy.key, { file, record });
    this.filesByKey.set(policy.key, [file]);
    this.problemList = this.problemList.filter((p) => p.file !== file && !stale.includes(p.file));
    const revision = entry.revision;
    this.subscribers.emit({ type: 'put', record, revision });
    return { record, created: current === undefined, revision };
  }
}
