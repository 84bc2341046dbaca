import type { ScenarioContext, ScenarioReport } from '../lib/report.js';
export declare const CONNECTIONS = 16;
export declare function loadSettings(quick: boolean): {
    connections: number;
    warmupSec: number;
    durationSec: number;
    repeats: number;
    /** the count bound: far above what 2 cores serve in the duration */
    maxRequests: number;
};
export declare function httpScenario(ctx: ScenarioContext): Promise<Omit<ScenarioReport, 'loadavgBefore' | 'busyBefore' | 'startedAt' | 'durationSec'>>;
