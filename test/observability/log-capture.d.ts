import type { Logger } from 'pino';
export interface CapturedLog {
    logger: Logger;
    /** every line written so far, as text */
    text(): string;
    /** every line written so far, parsed */
    lines(): Array<Record<string, any>>;
    /** the decision-log lines */
    decisions(): Array<Record<string, any>>;
}
export declare function captureLog(level?: string): CapturedLog;
