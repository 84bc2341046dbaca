export declare function median(values: readonly number[]): number;
/** Nearest-rank percentile of an already sorted array (p in 0..100). */
export declare function percentileSorted(sorted: ArrayLike<number>, p: number): number;
export declare function loadavg(): [number, number, number];
export declare function loadavgText(l?: readonly number[]): string;
export declare function round(x: number, digits?: number): number;
/** 1234567 → "1,234,567" */
export declare function int(x: number): string;
/** Nanoseconds → a readable duration. */
export declare function ns(x: number): string;
/** Milliseconds → readable. */
export declare function ms(x: number): string;
/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat, and
 * those of its waited-for children (cutime, cstime). Undefined when it is gone.
 */
export declare function procCpuSeconds(pid: number): number | undefined;
/** Resident set size of a process in MiB, from /proc/<pid>/status. */
export declare function procRssMiB(pid: number): number | undefined;
export interface MachineInfo {
    cpuModel: string;
    cores: number;
    memoryGiB: number;
    node: string;
    platform: string;
    kernel: string;
    date: string;
}
export declare function machineInfo(): MachineInfo;
export declare const sleep: (msec: number) => Promise<void>;
/** Share of all cores busy (0..1) over `msec`, from /proc/stat: what else is running now. */
export declare function machineBusy(msec?: number): Promise<number | undefined>;
