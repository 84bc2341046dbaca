import type { ScenarioContext, ScenarioReport } from '../lib/report.js';
export declare function engineScenario(ctx: ScenarioContext): Promise<Omit<ScenarioReport, 'loadavgBefore' | 'busyBefore' | 'startedAt' | 'durationSec'>>;
