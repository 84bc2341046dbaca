// Revisions of a store that lives in this process (memory, file): a counter that every
// change moves forward, as a decimal string like the MongoDB store's sequence numbers.

export class RevisionCounter {
  private value = 0;

  current(): string {
    return String(this.value);
  }

  /** Continue after `value` (a durable store's last recorded revision). */
  startAt(value: number): void {
    this.value = value;
  }

  next(): string {
    this.value++;
    return this.current();
  }
}
