// Equal values stored once (issue 20: memory). A replica keeps every compiled document,
// plan and cached decision for as long as it runs, and most of what they hold recurs:
// the same role names, subject lists, pattern lists, position lists and permission
// lists in thousands of documents and decisions. The key must say everything the value
// holds (JSON of it, say); values that are objects are shared, so they must be frozen
// by whoever makes them.

/** Values by key, bounded: emptied when full (what was shared stays shared). */
export class Interned<T> {
  private readonly known = new Map<string, T>();

  constructor(private readonly max: number) {}

  /** The value stored under `key`, made (and stored) when there is none. */
  get(key: string, make: () => T): T {
    let value = this.known.get(key);
    if (value === undefined) {
      if (this.known.size >= this.max) this.known.clear();
      value = make();
      this.known.set(key, value);
    }
    return value;
  }
}

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * Lists of JSON values by content: one frozen copy of the exact length each (an array
 * pushed into keeps room for 17 entries), and one empty list for all.
 */
export class InternedLists<T> {
  private readonly lists: Interned<readonly T[]>;

  constructor(max: number) {
    this.lists = new Interned(max);
  }

  get(list: readonly T[]): readonly T[] {
    return list.length === 0 ? EMPTY : this.lists.get(JSON.stringify(list), () => Object.freeze(list.slice()));
  }
}

/**
 * Values by key, held weakly: a value lives as long as something that uses it (a plan, a
 * segment) does, and its key goes with it. Unbounded, since nothing outlives its users.
 */
export class WeaklyShared<T extends object> {
  private readonly byKey = new Map<string, WeakRef<T>>();
  private readonly collected = new FinalizationRegistry<string>((key) => {
    if (this.byKey.get(key)?.deref() === undefined) this.byKey.delete(key);
  });

  get(key: string): T | undefined {
    return this.byKey.get(key)?.deref();
  }

  set(key: string, value: T): T {
    this.byKey.set(key, new WeakRef(value));
    this.collected.register(value, key);
    return value;
  }
}
