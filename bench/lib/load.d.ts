export interface LoadRequest {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    /** mutate each request just before it is sent (rotating subjects, nonces) */
    setupRequest?: (req: any, context: any) => any;
    /** checks every answer to this request (use in warm-ups: it makes autocannon keep bodies) */
    verify?: (status: number, body: string) => boolean;
}
export interface LoadOptions {
    port: number;
    requests: LoadRequest[];
    connections: number;
    durationSec: number;
    maxRequests: number;
    /** pids whose CPU use is measured (the server; a peer's helpers) */
    pids?: number[];
    /** checks every response body (use in warm-ups); a false answer is counted */
    verify?: (status: number, body: string) => boolean;
}
export interface LoadResult {
    rps: number;
    /** responses with a 2xx status */
    ok: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    verifyFailures: number;
    durationSec: number;
    latencyMs: {
        p50: number;
        p90: number;
        p99: number;
        p999: number;
        max: number;
        mean: number;
    };
    /** cores used by the measured pids over the run (CPU seconds / wall seconds) */
    serverCores?: number;
    /** cores used by this process (the load generator) */
    loadgenCores: number;
}
export declare function runLoad(o: LoadOptions): Promise<LoadResult>;
/** A load run's problems, if any: a benchmark with errors is not a result. */
export declare function loadProblems(r: LoadResult): string | undefined;
