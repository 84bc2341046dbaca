// `related(resource, permission)` in a rule's `when`: does the request's subject have
// `permission` on `resource` in the relationship graph (SPEC §9)? Also
// `related(subject, resource, permission)` for a subject spelled out, e.g.
// `related("user:" + subject.id, "document:" + resource.id, "write")`.
//
// The core stays pure: it never imports the relationship engine. The check is a
// capability of one evaluation: whoever evaluates passes a `RelationshipCheck` in the
// evaluation options (src/compose.ts wires the relationship service's into the decision
// service), and the condition runner puts it into the activation under a name no CEL
// expression can spell (RELATIONSHIPS_VARIABLE). With none passed, `related(...)`
// throws, so the rule does not apply: fail closed. A macro (not a plain function)
// because it reads the check and, in the two-argument form, the subject from the
// activation, which only macro hooks see.

import type { Environment } from '@marcbachmann/cel-js';

export interface RelationshipCheck {
  /** synchronous, from the state in memory; throws when it cannot answer (unknown names, limits) */
  check(subject: string, resource: string, permission: string): boolean;
  /** the state it answers from: part of the decision cache's key for conditions calling related() */
  readonly revision: string;
}

/** The activation entry holding the evaluation's check: `@` cannot start a CEL identifier. */
export const RELATIONSHIPS_VARIABLE = '@relationships';

function related(check: RelationshipCheck | undefined, subject: unknown, resource: unknown, permission: unknown): boolean {
  if (!check) throw new Error('related(): no relationship engine is configured');
  if (typeof subject !== 'string' || typeof resource !== 'string' || typeof permission !== 'string') {
    throw new Error('related(): subject, resource and permission must be strings');
  }
  return check.check(subject, resource, permission);
}

// The parts of cel-js's macro hooks used here (its own typings leave them `any`).
interface AstNode { readonly op: string }
interface Checker {
  check(node: AstNode, ctx: unknown): { name: string; hasDynType: boolean };
  getType(name: string): unknown;
  createError(code: string, message: string, node: AstNode): Error;
}
interface Evaluator { run(node: AstNode, ctx: unknown): unknown }
interface Context { getValue(name: string): unknown }

function macro(withSubject: boolean) {
  return ({ args }: { args: AstNode[] }) => ({
    relatedArgs: args,
    typeCheck(checker: Checker, m: { relatedArgs: AstNode[] }, ctx: unknown) {
      for (const a of m.relatedArgs) {
        const t = checker.check(a, ctx);
        if (t.name !== 'string' && !t.hasDynType) throw checker.createError('invalid_argument', `related() takes strings, not ${t.name}`, a);
      }
      return checker.getType('bool');
    },
    evaluate(ev: Evaluator, m: { relatedArgs: AstNode[] }, ctx: Context) {
      const values = m.relatedArgs.map((a) => ev.run(a, ctx));
      const check = ctx.getValue(RELATIONSHIPS_VARIABLE) as RelationshipCheck | undefined;
      if (withSubject) return related(check, values[0], values[1], values[2]);
      const subject = ctx.getValue('subject') as { id?: unknown } | undefined;
      return related(check, subject?.id, values[0], values[1]);
    },
  });
}

export function registerRelated(env: Environment): Environment {
  return env
    .registerFunction('related(ast, ast): bool', macro(false), { description: "does the request's subject have the permission on the resource (relationship graph)" })
    .registerFunction('related(ast, ast, ast): bool', macro(true), { description: 'does the subject have the permission on the resource (relationship graph)' });
}
