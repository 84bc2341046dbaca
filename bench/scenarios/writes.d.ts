import type { ScenarioContext, ScenarioReport } from '../lib/report.js';
export declare function writesScenario(ctx: ScenarioContext): Promise<Omit<ScenarioReport, 'loadavgBefore' | 'busyBefore' | 'startedAt' | 'durationSec'>>;
