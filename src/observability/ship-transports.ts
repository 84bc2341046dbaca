// The sinks decision records are shipped to (decision-shipping.ts): NATS JetStream (the
// `nats` client; each record one message, its decisionId the message id, so a batch
// retried after a lost ack is de-duplicated by the stream; one ack per batch) and an HTTP endpoint (one
// POST of a JSON array per batch).

import { connect, headers as natsHeaders, type JetStreamClient, type NatsConnection } from 'nats';
import { RejectedBatchError, type ShipTransport } from './decision-shipping.js';

const encoder = new TextEncoder();

export interface NatsTransportOptions {
  servers: string;
  subject: string;
  /** connect and publish-ack timeout, ms (default 2000) */
  timeoutMs?: number;
}

export function natsTransport(options: NatsTransportOptions): ShipTransport {
  const timeout = options.timeoutMs ?? 2000;
  let connection: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  const connected = () => {
    // Once connected the client reconnects by itself; a failed first connect is retried by the next batch.
    connection ??= connect({ servers: options.servers, timeout, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 500, name: 'policy-engine-decisions' })
      .then((nc) => ({ nc, js: nc.jetstream({ timeout }) }));
    connection.catch(() => {
      connection = undefined;
    });
    return connection;
  };
  return {
    name: 'nats',
    async send(batch) {
      const { nc, js } = await connected();
      // One acknowledged publish per batch, not per record: every record but the last goes
      // out as a plain publish on the same connection, and the last waits for the
      // stream's ack. A connection delivers in order and the stream stores in order, so
      // the ack of the last means the server has taken every earlier one too; when it
      // fails the whole batch is sent again, and the message ids (Nats-Msg-Id, the
      // decisionId) keep the records already stored from being stored twice.
      const last = batch.length - 1;
      for (let i = 0; i < last; i++) {
        const r = batch[i]!;
        const h = natsHeaders();
        if (typeof r.decisionId === 'string') h.set('Nats-Msg-Id', r.decisionId);
        nc.publish(options.subject, encoder.encode(JSON.stringify(r)), { headers: h });
      }
      const r = batch[last]!;
      await js.publish(options.subject, encoder.encode(JSON.stringify(r)), typeof r.decisionId === 'string' ? { msgID: r.decisionId } : {});
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
        body: JSON.stringify(batch),
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
