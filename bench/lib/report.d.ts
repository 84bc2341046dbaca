import type { MachineInfo } from './util.js';
export interface Table {
    title: string;
    columns: string[];
    rows: string[][];
    notes?: string[];
}
export interface ScenarioReport {
    id: string;
    title: string;
    /** the run this section comes from (sections kept from an earlier run say so) */
    mode?: 'quick' | 'full';
    /** 1, 5 and 15 minute load averages just before the scenario started */
    loadavgBefore: number[];
    /** share of all cores busy during the second before the scenario (other work) */
    busyBefore?: number;
    startedAt: string;
    durationSec: number;
    tables: Table[];
    notes: string[];
    /** raw numbers for results.json */
    data: Record<string, unknown>;
    error?: string;
}
export interface ScenarioContext {
    quick: boolean;
    /** one line to the console (each scenario prints its own result lines) */
    log(line: string): void;
}
export interface RunReport {
    machine: MachineInfo;
    mode: 'quick' | 'full';
    only?: string;
    peers: Record<string, string>;
    loadavgStart: number[];
    loadavgEnd: number[];
    totalSec: number;
    scenarios: ScenarioReport[];
}
export declare function tableMarkdown(t: Table): string;
export declare function writeReports(report: RunReport, mdPath: string, jsonPath: string): void;
