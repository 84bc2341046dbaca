export type FerretServer = {
    /** `mongodb://127.0.0.1:PORT/` */
    url: string;
    port: number;
    /** SQLite data directory */
    dir: string;
    /** SIGTERM, wait for exit (SIGKILL after 5 s). No-op when not running. */
    stop(): Promise<void>;
    /** Start again on the same port and data dir after stop(). No-op when running. */
    start(): Promise<void>;
};
export type StartFerretDBOptions = {
    port?: number;
    dir?: string;
};
/** Path of the FerretDB binary, building it first (once per process) if needed. */
export declare function ferretDBBinary(): Promise<string>;
/** A currently free loopback TCP port (bind port 0, read it, close). */
export declare function freePort(): Promise<number>;
/**
 * Start a FerretDB server on a free loopback port (or `opts.port`) with a new
 * temporary data directory (or `opts.dir`, created if missing). Resolves once
 * the port accepts connections.
 */
export declare function startFerretDB(opts?: StartFerretDBOptions): Promise<FerretServer>;
