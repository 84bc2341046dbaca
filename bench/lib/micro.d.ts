export interface MicroResult {
    /** mean ns per call (mitata) */
    avgNs: number;
    perSec: number;
    /** per-call percentiles from individually timed calls */
    p50Ns: number;
    p99Ns: number;
    /** mitata's own percentiles of its samples (batch means for fast functions) */
    mitataP50Ns: number;
    mitataP99Ns: number;
    samples: number;
}
/** Time `count` calls one by one (after `count / 10` unmeasured ones); ns, sorted. */
export declare function timeCalls(fn: () => unknown, count: number): Float64Array;
export declare function micro(fn: () => unknown, quick: boolean): Promise<MicroResult>;
