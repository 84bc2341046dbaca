import type { ScenarioContext, ScenarioReport } from '../lib/report.js';
export declare function peerVersions(): Promise<Record<string, string>>;
export declare function peersScenario(ctx: ScenarioContext): Promise<Omit<ScenarioReport, 'loadavgBefore' | 'busyBefore' | 'startedAt' | 'durationSec'>>;
