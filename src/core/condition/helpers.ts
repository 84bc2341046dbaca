// Helper functions available in conditions: IP-in-CIDR, time of day in a time zone,
// list membership. Pure and bounded; compiled artefacts (CIDR blocks, formatters) are
// memoised by their literal argument.

import { BlockList, isIP } from 'node:net';

const MAX_MEMO = 1000;
const blocks = new Map<string, BlockList | null>();
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function memo<T>(map: Map<string, T>, key: string, make: () => T): T {
  const known = map.get(key);
  if (known !== undefined || map.has(key)) return known as T;
  const v = make();
  if (map.size < MAX_MEMO) map.set(key, v);
  return v;
}

function blockOf(cidr: string): BlockList | null {
  return memo(blocks, cidr, () => {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
    if (!m) return null;
    const family = isIP(m[1]!);
    const prefix = Number(m[2]);
    if (family === 0 || prefix > (family === 4 ? 32 : 128)) return null;
    const list = new BlockList();
    list.addSubnet(m[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
    return list;
  });
}

/** Is `ip` inside `cidr`? Throws on a malformed address or block (the rule then does not apply). */
export function inCidr(ip: string, cidr: string): boolean {
  const block = blockOf(cidr);
  if (!block) throw new Error(`inCidr: ${JSON.stringify(cidr.slice(0, 64))} is not a CIDR block`);
  const family = isIP(ip);
  if (family === 0) throw new Error(`inCidr: ${JSON.stringify(ip.slice(0, 64))} is not an IP address`);
  return block.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

export function isIpAddress(ip: string): boolean {
  return isIP(ip) !== 0;
}

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  const f = memo(formatters, timeZone, () => {
    try {
      return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      return null;
    }
  });
  if (!f) throw new Error(`unknown time zone ${JSON.stringify(timeZone.slice(0, 64))}`);
  return f;
}

/** "HH:MM" of `at` in `timeZone` (IANA name). */
export function timeOfDay(at: Date, timeZone: string): string {
  return formatterOf(timeZone).format(at);
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * Is the time of day of `at` in `timeZone` within [from, to)? Windows may wrap past
 * midnight ("22:00" to "06:00").
 */
export function inTimeWindow(at: Date, from: string, to: string, timeZone: string): boolean {
  if (!HHMM.test(from) || !HHMM.test(to)) throw new Error('inTimeWindow: times are "HH:MM" (24 h)');
  const t = timeOfDay(at, timeZone);
  return from <= to ? t >= from && t < to : t >= from || t < to;
}

export function hasAny(list: readonly unknown[], wanted: readonly unknown[]): boolean {
  return wanted.some((w) => list.includes(w));
}

export function hasAll(list: readonly unknown[], wanted: readonly unknown[]): boolean {
  return wanted.every((w) => list.includes(w));
}
