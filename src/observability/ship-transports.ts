// The sinks decision records are shipped to (decision-shipping.ts): NATS JetStream (the
// `nats` client; one message per batch, NDJSON — one record per line — with the batch id
// as the message id, so a batch retried after a lost ack is de-duplicated by the stream)
// and an HTTP endpoint (one POST of a JSON array per batch). docs/audit.md documents both.

import type { JetStreamClient, NatsConnection } from 'nats';
import { RejectedBatchError, type ShipTransport } from './decision-shipping.js';

const encoder = new TextEncoder();
/** the message body's type, and the header that says how many records it holds */
export const NDJSON = 'application/x-ndjson';
export const RECORDS_HEADER = 'Decision-Records';

export interface NatsTransportOptions {
  servers: string;
  subject: string;
  /** connect and publish-ack timeout, ms (default 2000) */
  timeoutMs?: number;
}

export function natsTransport(options: NatsTransportOptions): ShipTransport {
  const timeout = options.timeoutMs ?? 2000;
  // The client is imported here, when NATS shipping is configured, not with this module: most
  // deployments ship no decisions to NATS and should not hold its code (~2 MiB of heap).
  const nats = import('nats');
  nats.catch(() => {});
  let connection: Promise<{ nc: NatsConnection; js: JetStreamClient; headers: typeof import('nats').headers }> | undefined;
  const connected = () => {
    // Once connected the client reconnects by itself; a failed first connect is retried by the next batch.
    // noAsyncTraces: no Error (a captured stack) made per publish just in case it times out;
    // a failed send is logged by its message only (compose.ts), so the stack was never read.
    connection ??= nats.then(({ connect, headers }) => connect({ servers: options.servers, timeout, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 500, name: 'policy-engine-decisions', noAsyncTraces: true })
      .then((nc) => ({ nc, js: nc.jetstream({ timeout }), headers })));
    connection.catch(() => {
      connection = undefined;
    });
    return connection;
  };
  return {
    name: 'nats',
    async send(batch) {
      const { nc, js, headers: natsHeaders } = await connected();
      const payload = encoder.encode(batch.lines.join('\n'));
      // Waiting for the server to refuse it would only retry it for ever.
      if (nc.info !== undefined && payload.length > nc.info.max_payload) throw new RejectedBatchError(`a batch of ${payload.length} bytes exceeds the server's max_payload (${nc.info.max_payload})`);
      const h = natsHeaders();
      h.set('Content-Type', NDJSON);
      h.set(RECORDS_HEADER, String(batch.lines.length));
      // One acknowledged message per batch; its id is the batch's, so a batch re-sent after
      // a lost ack is stored once (within the stream's duplicate window).
      await js.publish(options.subject, payload, { msgID: batch.id, headers: h });
    },
    async close() {
      const c = connection;
      connection = undefined;
      if (c) await (await c).nc.drain().catch(() => {});
    },
  };
}

export interface HttpTransportOptions {
  url: string;
  timeoutMs?: number;
}

export function httpTransport(options: HttpTransportOptions): ShipTransport {
  return {
    name: 'http',
    async send(batch) {
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // The lines are JSON objects already: joined, they are the JSON array the endpoint always got.
        body: `[${batch.lines.join(',')}]`,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      // The receiver refuses this batch as such: retrying the same bytes cannot help.
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new RejectedBatchError(`HTTP ${res.status}`);
      throw new Error(`decision sink answered HTTP ${res.status}`);
    },
    async close() {},
  };
}
