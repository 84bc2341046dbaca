// `related(resource, permission)` in a rule's `when`: does the request's subject have
// `permission` on `resource` in the relationship graph (SPEC §9)? Also
// `related(subject, resource, permission)` for a subject spelled out, e.g.
// `related("user:" + subject.id, "document:" + resource.id, "write")`.
//
// The core stays pure: it never imports the relationship engine. The composition root
// installs a checker in the slot below (one per process — a sidecar serves one
// deployment). A module slot rather than the activation, because the condition
// runner's inputs and the decision service would otherwise all have to carry it; the
// price is that two services in one process share the slot (tests install their own).
// With no checker installed, `related(...)` throws, so the rule does not apply: fail
// closed. A macro (not a plain function) because the two-argument form reads the
// subject from the activation, which only macro hooks see.

import type { Environment } from '@marcbachmann/cel-js';

export interface RelationshipCheck {
  /** synchronous, from the state in memory; throws when it cannot answer (unknown names, limits) */
  check(subject: string, resource: string, permission: string): boolean;
  /** the state it answers from: part of the decision cache's key for conditions calling related() */
  readonly revision: string;
}

let installed: RelationshipCheck | undefined;

/** Install the checker conditions call; returns a function that uninstalls it (if still installed). */
export function installRelationshipCheck(check: RelationshipCheck | undefined): () => void {
  installed = check;
  return () => {
    if (installed === check) installed = undefined;
  };
}

/** The revision of the installed checker ('' when none): cached decisions that called related() key on it. */
export function relationsRevision(): string {
  return installed?.revision ?? '';
}

function related(subject: unknown, resource: unknown, permission: unknown): boolean {
  if (!installed) throw new Error('related(): no relationship engine is configured');
  if (typeof subject !== 'string' || typeof resource !== 'string' || typeof permission !== 'string') {
    throw new Error('related(): subject, resource and permission must be strings');
  }
  return installed.check(subject, resource, permission);
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
      if (withSubject) return related(values[0], values[1], values[2]);
      const subject = ctx.getValue('subject') as { id?: unknown } | undefined;
      return related(subject?.id, values[0], values[1]);
    },
  });
}

export function registerRelated(env: Environment): Environment {
  return env
    .registerFunction('related(ast, ast): bool', macro(false), { description: "does the request's subject have the permission on the resource (relationship graph)" })
    .registerFunction('related(ast, ast, ast): bool', macro(true), { description: 'does the subject have the permission on the resource (relationship graph)' });
}
