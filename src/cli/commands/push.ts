// `policy-engine push <paths…> --url …`: make a running service hold the policies of
// a directory. Everything is validated locally first; then each document is created,
// replaced (with a diff of the stored text) or left alone when its ETag — a hash of
// format and text — is already the stored one. --prune deletes what no file holds;
// --dry-run only shows the plan, and what it would do to the requests the service has
// seen and to its stored test suites (POST /v1/preview). Writes carry If-Match / If-None-Match, so a change
// made by someone else since the plan was read fails with 412 instead of being lost.

import type { Command } from '@commander-js/extra-typings';
import type { PolicySummary } from '../../client/index.js';
import type { LoadedDocument } from '../../core/compile/load-document.js';
import { etagOf } from '../../store/store.js';
import { lineDiff } from '../../testing/diff.js';
import { readPolicyPaths } from '../../testing/policy-files.js';
import { formatProblem } from '../../testing/report.js';
import { CliError } from '../cli-error.js';
import { clientFor, listAllPolicies, tokenOption, urlOption } from '../remote.js';
import { prepareRuntime } from '../runtime.js';
import { formatImpact } from '../impact-report.js';

type Step =
  | { action: 'create' | 'replace' | 'unchanged'; key: string; file: string; loaded: LoadedDocument; remote?: PolicySummary }
  | { action: 'delete'; key: string; remote: PolicySummary };

function plan(local: Array<{ loaded: LoadedDocument; file: string }>, remote: PolicySummary[], prune: boolean): { steps: Step[]; storedOnly: number } {
  const stored = new Map(remote.map((r) => [r.key, r]));
  const steps: Step[] = local.map(({ loaded, file }) => {
    const key = loaded.policy.key;
    const r = stored.get(key);
    stored.delete(key);
    if (!r) return { action: 'create', key, file, loaded };
    return { action: r.etag === etagOf(loaded.format, loaded.text) ? 'unchanged' : 'replace', key, file, loaded, remote: r };
  });
  if (prune) for (const r of stored.values()) steps.push({ action: 'delete', key: r.key, remote: r });
  return { steps, storedOnly: prune ? 0 : stored.size };
}

export function addPushCommand(program: Command): void {
  program
    .command('push')
    .description('load policy files into a running service: created / replaced (with a diff) / unchanged / deleted (--prune)')
    .argument('<paths...>', 'policy files, or directories searched recursively')
    .addOption(urlOption())
    .addOption(tokenOption())
    .option('--dry-run', 'show what would change, write nothing')
    .option('--prune', 'delete stored policies that no file holds')
    .action(async (paths, options) => {
      await prepareRuntime();
      const loaded = readPolicyPaths(paths);
      if (loaded.problems.length > 0) {
        throw new CliError(`nothing pushed, the files are invalid:\n${loaded.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
      }
      const local = loaded.files.flatMap((f) => f.documents.map((d) => ({ loaded: d, file: f.file })));
      if (local.length === 0) throw new CliError('nothing to push: no policy file found', 2);
      const client = clientFor(options.url, options.token);
      const { steps, storedOnly } = plan(local, await listAllPolicies(client), options.prune === true);
      const out = (s: string) => process.stdout.write(s + '\n');
      for (const step of steps) {
        const label = step.action.padEnd(9);
        if (step.action === 'delete') {
          out(`${label} ${step.key}`);
          continue;
        }
        out(`${label} ${step.key}  (${step.file})`);
        if (step.action === 'replace') {
          const before = await client.getPolicy(step.key, { format: step.loaded.format });
          for (const line of lineDiff(before.text, step.loaded.text)) out(`          ${line}`);
        }
      }
      const count = (a: Step['action']) => steps.filter((s) => s.action === a).length;
      const summary = `${count('create')} created, ${count('replace')} replaced, ${count('unchanged')} unchanged, ${count('delete')} deleted` +
        (storedOnly > 0 ? `; ${storedOnly} stored polic${storedOnly === 1 ? 'y' : 'ies'} not in the files (kept; --prune deletes them)` : '');
      if (options.dryRun) {
        const changed = steps.filter((st) => st.action !== 'unchanged');
        if (changed.length > 0) {
          try {
            const impact = await client.preview({
              put: changed.flatMap((st) => (st.action === 'delete' ? [] : [st.loaded.text])),
              delete: changed.flatMap((st) => (st.action === 'delete' ? [st.key] : [])),
            });
            for (const line of formatImpact(impact)) out(line);
          } catch (err) {
            // The plan above still holds; only the impact is unknown (an older server, no token).
            out(`impact preview unavailable: ${(err as Error).message}`);
          }
        }
        out(`dry run, nothing written: ${summary}`);
        return;
      }
      for (const step of steps) {
        if (step.action === 'create') await client.putPolicy(step.key, step.loaded.text, { format: step.loaded.format, ifNoneMatch: true });
        else if (step.action === 'replace') await client.putPolicy(step.key, step.loaded.text, { format: step.loaded.format, ifMatch: step.remote!.etag });
        else if (step.action === 'delete') await client.deletePolicy(step.key, { ifMatch: step.remote.etag });
      }
      out(`pushed: ${summary}`);
    });
}
