import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
export declare const ROOT: string;
/** Bundle the page into a fresh directory, removed when the test ends. */
export declare function buildUiBundle(t: Test): string;
export declare function uiApp(t: Test, options: {
    assetsDir: string;
    adminToken?: string;
    loopbackOnly?: boolean;
}): Promise<FastifyInstance>;
