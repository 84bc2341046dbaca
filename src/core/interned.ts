// Equal values stored once (issue 20: memory). A replica keeps every compiled document,
// plan and cached decision for as long as it runs, and most of what they hold recurs:
// the same role names, subject lists, pattern lists, position lists and permission
// lists in thousands of documents and decisions. The key must say everything the value
// holds (JSON of it, say); values that are objects are shared, so they must be frozen
// by whoever makes them. Bounded: emptied when full (what was shared stays shared).

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
