import type { FastifyInstance } from 'fastify';
export interface Req {
    method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';
    url: string;
    headers?: Record<string, string>;
    /** an object is sent as JSON */
    payload?: string | object;
}
export interface Res {
    status: number;
    headers: Record<string, string>;
    body: string;
    json(): any;
}
export type Send = (req: Req) => Promise<Res>;
export declare function injectSender(app: FastifyInstance): Send;
/** Listen on a free loopback port and send real HTTP requests with fetch. */
export declare function httpSender(app: FastifyInstance): Promise<Send>;
