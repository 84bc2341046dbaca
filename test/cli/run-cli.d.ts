export declare const ROOT: string;
export interface CliRun {
    code: number | null;
    stdout: string;
    stderr: string;
}
export declare function runCli(args: readonly string[], options?: {
    env?: Record<string, string>;
    timeoutMs?: number;
}): Promise<CliRun>;
