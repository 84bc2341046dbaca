// The exact meaning of a decision for one concrete permission (SPEC §2): replay the
// applied effects in order. `POST /v1/check` answers this, not the summary lists.

import { matchSegments, mustParsePattern } from '../pattern.js';
import type { CheckResult, Decision } from './types.js';

export function checkPermission(decision: Decision, permission: string): CheckResult {
  const segs = permission.split(':');
  if (decision.default) {
    // No document in the path: the configured default patterns decide.
    return { allowed: decision.permissions.some((p) => matchSegments(mustParsePattern(p), segs)) };
  }
  let allowed = false;
  let blocked = false;
  let decisive: Decision['effects'][number] | undefined;
  for (const e of decision.effects) {
    if (!matchSegments(e.pattern, segs)) continue;
    if (e.kind === 'grant') {
      if (!blocked) {
        allowed = true;
        decisive = e;
      }
    } else {
      allowed = false;
      decisive = e;
      if (e.kind === 'deny') blocked = true;
    }
  }
  if (allowed || !decisive || decisive.rule.message === undefined) return { allowed };
  return { allowed, reason: { text: decisive.rule.message, rule: decisive.rule.id, document: decisive.policy.key } };
}
