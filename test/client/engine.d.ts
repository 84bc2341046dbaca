import type { Test } from 'tap';
import type { Logger } from 'pino';
import { type TestApp } from '../helpers/app.js';
export declare const ADMIN_TOKEN = "client-test-admin-token-0123";
export declare const DOCS_POLICY: string;
/** testApp, listening on 127.0.0.1, with an admin token; closed at teardown. */
export declare function runningEngine(t: Test, options?: {
    logger?: Logger;
}): Promise<TestApp & {
    url: string;
}>;
/** A loopback URL where nothing listens (connections are refused). */
export declare function refusedUrl(): Promise<string>;
/** A loopback URL that accepts connections and never answers; closed at teardown. */
export declare function hangingUrl(t: Test): Promise<string>;
