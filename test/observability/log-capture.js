// A pino logger (configured as main.ts configures it) whose lines are kept in memory.
import { createLogger } from '../../src/observability/logger.js';
export function captureLog(level = 'info') {
    const chunks = [];
    const logger = createLogger(level, { write: (s) => { chunks.push(s); } });
    const lines = () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    return {
        logger,
        text: () => chunks.join(''),
        lines,
        decisions: () => lines().filter((l) => l.name === 'decision'),
    };
}
