// `policy-engine eval`: evaluate a request against policy files, with no server: the
// documents are gathered by namespace path exactly as the service gathers stored ones.
// Prints the decision as JSON (with --explain, the trace too).

import type { Command } from '@commander-js/extra-typings';
import { checkAll, decide, reasonsFor } from '../../core/evaluate/decide.js';
import { toSubject } from '../../core/request.js';
import { parseNamespacePath } from '../../core/namespace.js';
import { isConcretePermission } from '../../core/pattern.js';
import { LocalPolicies } from '../../core/evaluate/local-policies.js';
import { readPolicyPaths } from '../../testing/policy-files.js';
import { formatProblem } from '../../testing/report.js';
import type { CheckOutcome, SubjectSpec } from '../../testing/types.js';
import { CliError, EXIT, collect, isObject, jsonOption } from '../cli-error.js';
import { prepareRuntime } from '../runtime.js';
import { LanguageNegotiator } from '../../core/evaluate/request-reasons.js';
import { isLanguageTag } from '../../core/messages/language.js';

const isSubject = (v: unknown): v is Exclude<SubjectSpec, string> => isObject(v) && typeof v.id === 'string' && v.id !== '';
const list = (s: string | undefined) => (s === undefined ? [] : s.split(',').map((x) => x.trim()).filter((x) => x !== ''));

export function addEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a request against policy files locally (no server); prints the decision as JSON')
    .requiredOption('--policies <path>', 'a policy file or directory (repeatable)', collect, [] as string[])
    .requiredOption('--subject <subject>', 'a subject id, or a JSON object {"id", "roles", "groups", "attributes"}')
    .requiredOption('--namespace <path>', 'the namespace path, e.g. global.org.org:57af7f6d-f6f7-4af1-b182-3a30440fa781')
    .option('--roles <roles>', 'comma-separated roles of the subject')
    .option('--groups <groups>', 'comma-separated groups of the subject')
    .option('--attributes <json>', 'attributes of the subject (a JSON object)')
    .option('--context <json>', 'the request context (a JSON object)')
    .option('--resource <json>', 'the resource: {"type", "id", "attributes"}')
    .option('--check <permission>', 'also check a concrete permission (repeatable)', collect, [] as string[])
    .option('--now <time>', 'the time conditions see (ISO 8601); default: now')
    .option('--explain', 'include the trace: every document and rule visited')
    .option('--language <tag>', 'the language of reasons (BCP 47, e.g. de); default: the subject\'s `language` attribute, else en')
    .action(async (options) => {
      await prepareRuntime();
      const loaded = readPolicyPaths(options.policies);
      if (loaded.problems.length > 0) {
        throw new CliError(`the policies are invalid:\n${loaded.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
      }
      // An empty set would answer with the default (["*"]): a mistyped path must not look like that.
      if (loaded.files.length === 0) throw new CliError(`no policy file (.json, .yaml, .yml) in ${options.policies.join(', ')}`, 2);
      const path = parseNamespacePath(options.namespace);
      if (!path.ok) throw new CliError(`--namespace: ${path.reason}`, 2);
      const spec: SubjectSpec = options.subject.trimStart().startsWith('{')
        ? jsonOption('--subject', options.subject, isSubject, 'a JSON object with a non-empty "id"')
        : options.subject;
      const subject = toSubject(spec);
      const extra = {
        roles: [...subject.roles, ...list(options.roles)],
        groups: [...subject.groups, ...list(options.groups)],
        attributes: { ...subject.attributes, ...(options.attributes !== undefined ? jsonOption('--attributes', options.attributes, isObject, 'a JSON object') : {}) },
      };
      const context = options.context !== undefined ? jsonOption('--context', options.context, isObject, 'a JSON object') : undefined;
      const resource = options.resource !== undefined ? jsonOption('--resource', options.resource, isObject, 'a JSON object') : undefined;
      const now = options.now !== undefined ? new Date(options.now) : new Date();
      if (Number.isNaN(now.getTime())) throw new CliError('--now: not a time (use ISO 8601, e.g. 2025-03-04T10:00:00Z)', 2);
      for (const p of options.check) if (!isConcretePermission(p)) throw new CliError(`--check: ${p} is not a concrete permission`, 2);
      if (options.language !== undefined && !isLanguageTag(options.language)) throw new CliError(`--language: ${options.language} is not a BCP 47 language tag`, 2);

      const policies = new LocalPolicies(loaded.files.flatMap((f) => f.documents.map((d) => d.policy)));
      // The one decision function (core/evaluate/decide.ts), over the files' documents.
      const request = { subject: { ...subject, ...extra }, namespace: options.namespace, context, resource, language: options.language };
      const { prepared, decision } = decide(request, { registry: undefined, stored: () => policies }, { defaultPermissions: ['*'], explain: options.explain === true, now });
      const describe = reasonsFor(new LanguageNegotiator({ defaultLanguage: 'en', languageAttribute: 'language' }), prepared, request).describer(decision);
      const checks: Record<string, CheckOutcome> = Object.fromEntries(checkAll(decision, options.check, describe));
      const out = {
        permissions: decision.permissions,
        denied: decision.denied,
        default: decision.default,
        exact: decision.exact,
        namespaces: path.namespaces,
        policies: decision.policies,
        ...(options.check.length > 0 ? { checks } : {}),
        ...(decision.conditionErrors ? { conditionErrors: decision.conditionErrors } : {}),
        ...(decision.trace ? { trace: decision.trace } : {}),
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      // --check: the answer is the exit status too (0 every check allowed, 1 one denied).
      if (Object.values(checks).some((c) => !c.allowed)) process.exitCode = EXIT.NO;
    });
}
