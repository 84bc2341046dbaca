// What each concrete permission came to against a cached decision (`verdictOf`: allowed,
// and which applied rule decided), so a `POST /v1/check` answered from the decision cache
// does not replay the applied rules again: on a path of a few dozen documents that replay
// was most of a check's cost, a hit costing nearly what a miss did. Reasons are still
// rendered per request (language, values) from the rule the verdict names.
//
// Keyed by the decision (a serial number per decision object, which is never changed once
// cached) and the permission. Bounded: emptied when full (like the escaped targets), and
// a permission longer than MAX_PERMISSION is not kept.

import { verdictOf } from '../core/evaluate/check.js';
import type { Decision } from '../core/evaluate/types.js';

/** Longest permission whose verdict is kept (longer ones are replayed every time). */
const MAX_PERMISSION = 200;

export class CheckVerdicts {
  private readonly serials = new WeakMap<Decision, number>();
  private nextSerial = 0;
  private readonly verdicts = new Map<string, number>();

  /** `max`: verdicts kept before the memo starts over (about 150 bytes each) */
  constructor(private readonly max: number) {}

  get size(): number {
    return this.verdicts.size;
  }

  /** `verdictOf(decision, permission)`, remembered for a decision that will be asked again (a cached one). */
  verdict(decision: Decision, permission: string): number {
    if (this.max <= 0 || permission.length > MAX_PERMISSION) return verdictOf(decision, permission);
    let serial = this.serials.get(decision);
    if (serial === undefined) {
      serial = this.nextSerial++;
      this.serials.set(decision, serial);
    }
    // The serial holds no space: the key is injective.
    const key = `${serial} ${permission}`;
    let v = this.verdicts.get(key);
    if (v === undefined) {
      v = verdictOf(decision, permission);
      if (this.verdicts.size >= this.max) this.verdicts.clear();
      this.verdicts.set(key, v);
    }
    return v;
  }
}
