export declare const PEERS_DIR: string;
export declare const OPA_BIN: string;
export declare const CERBOS_BIN: string;
export interface PeerBinary {
    ok: boolean;
    bin?: string;
    /** how it was obtained, or why not */
    status: string;
}
export declare function ensureOpa(log: (l: string) => void): Promise<PeerBinary>;
export declare function ensureCerbos(log: (l: string) => void): Promise<PeerBinary>;
