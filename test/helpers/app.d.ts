import { type Logger } from 'pino';
import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { type Config } from '../../src/config/config.js';
import { type Services } from '../../src/compose.js';
import type { PolicyStore } from '../../src/store/store.js';
export interface TestApp {
    app: FastifyInstance;
    services: Services;
    config: Config;
}
export interface TestAppOptions {
    store?: PolicyStore | 'none';
    config?: Partial<Config>;
    env?: Record<string, string>;
    logger?: Logger;
    /** false: the listener counts as reachable beyond loopback (the admin guard's other case) */
    loopbackOnly?: boolean;
    /** serve the playground from this bundle (default: dist/ui when UI_ENABLED) */
    uiAssetsDir?: string;
}
export declare function testApp(t: Test, options?: TestAppOptions): Promise<TestApp>;
/** PUT a YAML policy and expect success. */
export declare function putYaml(t: Test, app: FastifyInstance, key: string, yamlText: string, headers?: Record<string, string>): Promise<string>;
export declare function evaluate(app: FastifyInstance, body: object): Promise<{
    status: number;
    json: Record<string, unknown>;
}>;
