// The exact meaning of a decision for one concrete permission (SPEC §2): replay the
// applied rules' effects in order. `POST /v1/check` answers this, not the summary lists.

import { matchSegments, mustParsePattern } from '../pattern.js';
import type { CompiledRule } from '../compile/types.js';
import type { CheckResult, Decision } from './types.js';

export function checkPermission(decision: Decision, permission: string): CheckResult {
  const segs = permission.split(':');
  if (decision.default) {
    // No document in the path: the configured default patterns decide.
    return { allowed: decision.permissions.some((p) => matchSegments(mustParsePattern(p), segs)) };
  }
  let allowed = false;
  let blocked = false;
  let decisive: CompiledRule | undefined;
  /** the deny that blocked the permission: it stays the reason whatever follows */
  let blocker: CompiledRule | undefined;
  for (const rule of decision.applied) {
    if (rule.grant.some((p) => matchSegments(p, segs))) {
      if (blocked) decisive = blocker;
      else {
        allowed = true;
        decisive = rule;
      }
    }
    if (rule.revoke.some((p) => matchSegments(p, segs))) {
      allowed = false;
      decisive = rule;
    }
    if (rule.deny.some((p) => matchSegments(p, segs))) {
      allowed = false;
      blocked = true;
      decisive = rule;
      blocker = rule;
    }
  }
  if (allowed || !decisive || decisive.message === undefined) return { allowed };
  return { allowed, reason: { text: decisive.message, rule: decisive.id, document: decisive.policy } };
}
