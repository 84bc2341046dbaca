// `policy-engine plan …`: which resources of a type a subject may act on, as the filter
// a running service plans (POST /v1/plan, docs/plans.md).
//
//   plan --subject user:alice --namespace 'global.org.org:*' --permission document:read \
//        --type document [--context '{"hour":10}'] [--field id=_id …] [--partial] [--format sql|mongo|filter|json]
//
// Prints the filter in the chosen form (default: all of it as JSON). Exit 0 with a plan,
// 1 when the plan is `never` (nothing may be read), 3 when the service refuses or fails.

import { Option, type Command } from '@commander-js/extra-typings';
import { collect, isObject, jsonOption } from '../cli-error.js';
import { clientFor, tokenOption, urlOption } from '../remote.js';
import { CliError, EXIT } from '../cli-error.js';

function fieldsOf(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const at = p.indexOf('=');
    if (at <= 0) throw new CliError(`--field ${p}: must be field=name (e.g. attributes.owner=ownerId)`, EXIT.USAGE);
    out[p.slice(0, at)] = p.slice(at + 1);
  }
  return out;
}

export function addPlanCommand(program: Command): void {
  program.command('plan')
    .description('which resources of a type may the subject <permission> here: a filter for MongoDB / PostgreSQL (POST /v1/plan)')
    .requiredOption('--subject <subject>', 'the subject id, or a JSON subject object ({"id":…,"roles":[…]})')
    .requiredOption('--namespace <path>', 'the namespace path; may end in <type>:* (any namespace of that type)')
    .requiredOption('--permission <permission>', 'one concrete permission, e.g. document:read')
    .requiredOption('--type <type>', 'the resource type')
    .option('--context <json>', 'the request context (JSON object)')
    .option('--field <field=name>', 'map a plan field to your column or document field (repeatable)', collect, [] as string[])
    .option('--partial', 'over-approximate rules without a filter form (exact: false, recheck) instead of refusing')
    .addOption(new Option('--format <format>', 'what to print').choices(['json', 'filter', 'mongo', 'sql'] as const).default('json' as const))
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (o) => {
      const subject = o.subject.trimStart().startsWith('{') ? jsonOption('--subject', o.subject, isObject, 'a JSON object with an id') : o.subject;
      const context = o.context === undefined ? undefined : jsonOption('--context', o.context, isObject, 'a JSON object');
      const fields = fieldsOf(o.field);
      const plan = await clientFor(o.url, o.token).plan({
        subject: subject as never, namespace: o.namespace, permission: o.permission, resource: { type: o.type },
        ...(context ? { context } : {}), ...(Object.keys(fields).length > 0 ? { fields } : {}), ...(o.partial ? { allowPartial: true } : {}),
      });
      const print = (v: unknown) => process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`);
      if (o.format === 'json') print(plan);
      else if (o.format === 'filter') print(plan.filter);
      else if (o.format === 'mongo') print(plan.mongo);
      else print(`WHERE ${plan.sql.where}\n-- params: ${JSON.stringify(plan.sql.params)}`);
      if (!plan.exact) process.stderr.write(`not exact: re-check rows of ${plan.recheck?.map((r) => `${r.document}/${r.rule}`).join(', ')}\n`);
      if (plan.kind === 'never') process.exitCode = EXIT.NO;
    });
}
