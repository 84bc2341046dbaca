export declare const BENCH_DIR: string;
export declare const ROOT: string;
export interface Child {
    readonly pid: number;
    readonly port: number;
    /** the ready line's JSON, when it was one */
    readonly info: Record<string, unknown>;
    output(): string;
    stop(): Promise<void>;
}
export interface StartOptions {
    env?: Record<string, string | undefined>;
    cwd?: string;
    /** a line matching this means ready (a JSON line with `port` sets the port); without it and with `port`, ready = the port accepts */
    ready?: RegExp;
    /** the port when the program is told it (peers), not printing it; 0 = none (a worker) */
    port?: number;
    timeoutMs?: number;
    label?: string;
}
export declare function startChild(command: string, args: string[], options?: StartOptions): Promise<Child>;
/** One of our Node servers (bench/servers/server.ts) with a JSON configuration. */
export declare function startNodeServer(config: Record<string, unknown>, label?: string): Promise<Child>;
export declare function waitForPort(port: number, timeoutMs: number, gone?: () => boolean): Promise<void>;
/** A free loopback port (bind 0, read, close). */
export declare function freePort(): Promise<number>;
/** A JSON POST over loopback; status and parsed body. */
export declare function postJson(port: number, urlPath: string, body: unknown, headers?: Record<string, string>): Promise<{
    status: number;
    json: any;
    text: string;
}>;
