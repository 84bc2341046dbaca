// Admission for a cache whose keys are mostly asked once (TinyLFU's "doorkeeper": Einziger,
// Friedman and Manes, 2017). A key is let into the cache the second time it is asked
// within a window; the first time, only a few bits of a Bloom filter remember it. A
// stream of keys never asked again (random relationship checks) then costs no cache
// entries: each would live until evicted, long enough to reach V8's old generation, and
// churn it with major collections. A key asked twice is cached from its second ask on.
//
// The filter is cleared after `capacity` keys were remembered, which keeps its false
// positives rare (two probes in 16 bits per key: ~1.4% when full, a key admitted one ask
// early, never a wrong answer: admission only decides what the cache keeps).

export class Doorkeeper {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private remembered = 0;

  /** `capacity`: keys remembered before the filter starts over (16 bits each, rounded up to a power of two) */
  constructor(private readonly capacity: number) {
    let size = 1024;
    while (size < capacity * 16) size *= 2;
    this.bits = new Uint32Array(size >>> 5);
    this.mask = size - 1;
  }

  /** Was `key` asked before in this window? Remembers it either way. */
  seenBefore(key: string): boolean {
    // FNV-1a over UTF-16 code units, with two multipliers: the two probes.
    let a = 0x811c9dc5;
    let b = 0x01000193 ^ key.length;
    for (let k = 0; k < key.length; k++) {
      const c = key.charCodeAt(k);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    const i = a & this.mask;
    const j = (b ^ (b >>> 15)) & this.mask;
    const bits = this.bits;
    const seen = (bits[i >>> 5]! & (1 << (i & 31))) !== 0 && (bits[j >>> 5]! & (1 << (j & 31))) !== 0;
    if (seen) return true;
    if (++this.remembered > this.capacity) {
      bits.fill(0);
      this.remembered = 1;
    }
    bits[i >>> 5] = bits[i >>> 5]! | (1 << (i & 31));
    bits[j >>> 5] = bits[j >>> 5]! | (1 << (j & 31));
    return false;
  }
}
