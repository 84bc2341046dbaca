// `policy-engine rel …`: relationships (SPEC §9) on a running service, in the tuple syntax.
//
//   rel add 'document:doc1#reader@user:alice' … [--file tuples.txt]
//   rel delete 'document:doc1#reader@user:alice' …
//   rel check 'document:doc1#read@user:alice' [--explain]      exit 0 allowed, 1 denied
//   rel lookup 'document#read@user:alice'    the documents alice can read
//   rel lookup 'document:doc1#read@user'     the users who can read doc1
//   rel schema [file]                         replace the schema from a file, or print it
//
// Plain HTTP (fetch), so the command needs nothing of the server's code at run time.

import { readFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { CliError, EXIT } from '../cli-error.js';
import { tokenOption, urlOption } from '../remote.js';

/** A failure the service answered with: printed with its code, details listed. */
class RemoteError extends Error {
  constructor(message: string, readonly code: string, readonly details?: unknown) {
    super(message);
    this.name = 'RemoteError';
  }
}

interface Remote {
  url: string;
  token?: string;
}

/** `raw`: return the body as text, asking for YAML (what the schema is usually written in). */
async function call(remote: Remote, method: 'GET' | 'PUT' | 'POST', path: string, body?: { json?: unknown; text?: string; type?: string }, raw = false): Promise<unknown> {
  const headers: Record<string, string> = raw ? { accept: 'application/yaml' } : {};
  if (remote.token !== undefined) headers.authorization = `Bearer ${remote.token}`;
  let payload: string | undefined;
  if (body?.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body?.text !== undefined) {
    headers['content-type'] = body.type ?? 'application/yaml';
    payload = body.text;
  }
  let res: Response;
  try {
    res = await fetch(new URL(path, remote.url.endsWith('/') ? remote.url : `${remote.url}/`), { method, headers, body: payload, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new CliError(`cannot reach ${remote.url}: ${(err as Error).message}`, EXIT.ERROR);
  }
  const text = await res.text();
  if (!res.ok) {
    let e: { code?: string; message?: string; details?: unknown } = {};
    try {
      e = JSON.parse(text) as typeof e;
    } catch {
      // not our error shape; the status says enough
    }
    throw new RemoteError(e.message ?? `HTTP ${res.status}`, e.code ?? `HTTP_${res.status}`, e.details);
  }
  return raw ? text : JSON.parse(text);
}

/** Tuples from the arguments and from a file (one per line, `#` comments). */
function tuplesFrom(args: string[], file: string | undefined): string[] {
  const fromFile = file === undefined ? [] : readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const all = [...args, ...fromFile];
  if (all.length === 0) throw new CliError('no tuple given: pass resource#relation@subject arguments or --file', 2);
  return all;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

export function addRelCommand(program: Command): void {
  const rel = program.command('rel').description('relationships on a running service: add, delete, check, lookup, schema (tuple syntax resource#relation@subject)');

  for (const [name, field, description] of [['add', 'writes', 'write tuples (all or none)'], ['delete', 'deletes', 'delete tuples (all or none)']] as const) {
    rel.command(name)
      .description(description)
      .argument('[tuples...]', 'resource#relation@subject, e.g. document:doc1#reader@user:alice')
      .option('--file <file>', 'more tuples, one per line (# starts a comment)')
      .addOption(urlOption())
      .addOption(tokenOption())
      .action(async (tuples, options) => {
        const r = await call(options, 'POST', 'v1/relations/write', { json: { [field]: tuplesFrom(tuples, options.file) } }) as { revision: string };
        out(`revision ${r.revision}`);
      });
  }

  rel.command('check')
    .description('does the subject have the permission? exit 0 when allowed, 1 when denied, 3 on an error')
    .argument('<tuple>', 'resource#permission@subject, e.g. document:doc1#read@user:alice')
    .option('--explain', 'print the relations that prove it')
    .option('--at-least <revision>', 'answer from a state at least this new (a revision from add/delete)')
    .option('--fully-consistent', 'make the service sync with its store first')
    .addOption(urlOption())
    .action(async (tuple, options) => {
      const m = /^([^#@]+)#([^#@]+)@(.+)$/.exec(tuple);
      if (!m) throw new CliError(`${tuple}: expected resource#permission@subject`, 2);
      const consistency = options.fullyConsistent ? { fullyConsistent: true } : options.atLeast !== undefined ? { atLeast: options.atLeast } : undefined;
      const r = await call(options, 'POST', 'v1/relations/check', {
        json: { resource: m[1], permission: m[2], subject: m[3], ...(consistency ? { consistency } : {}), ...(options.explain ? { explain: true } : {}) },
      }) as { allowed: boolean; revision: string; explain?: { path: string[] } };
      out(`${r.allowed ? 'allowed' : 'denied'} (revision ${r.revision})`);
      for (const step of r.explain?.path ?? []) out(`  ${step}`);
      if (!r.allowed) process.exitCode = EXIT.NO;
    });

  rel.command('lookup')
    .description("resources the subject has the permission on ('document#read@user:alice'), or subjects that have it ('document:doc1#read@user')")
    .argument('<pattern>', 'type#permission@type:id, or type:id#permission@type')
    .option('--limit <n>', 'print at most this many', (v) => Number.parseInt(v, 10))
    .addOption(urlOption())
    .addOption(tokenOption()) // lookups enumerate stored tuples: a token when the service sets one
    .action(async (pattern, options) => {
      const m = /^([^#@]+)#([^#@]+)@(.+)$/.exec(pattern);
      if (!m) throw new CliError(`${pattern}: expected type#permission@type:id or type:id#permission@type`, 2);
      const [, left, permission, right] = m as unknown as [string, string, string, string];
      const resources = !left.includes(':');
      if (resources !== right.includes(':')) {
        throw new CliError(`${pattern}: leave out the id on exactly one side (type#permission@type:id finds resources, type:id#permission@type finds subjects)`, 2);
      }
      const max = options.limit ?? Number.POSITIVE_INFINITY;
      let printed = 0;
      let cursor: string | null = null;
      do {
        const body = resources
          ? { resourceType: left, permission, subject: right, limit: Math.min(1000, max - printed) }
          : { resource: left, permission, subjectType: right, limit: Math.min(1000, max - printed) };
        const r = await call(options, 'POST', resources ? 'v1/relations/lookup-resources' : 'v1/relations/lookup-subjects', { json: { ...body, ...(cursor !== null ? { cursor } : {}) } }) as { resources?: string[]; subjects?: string[]; cursor: string | null };
        for (const x of (resources ? r.resources : r.subjects) ?? []) {
          out(x);
          printed++;
        }
        cursor = r.cursor;
      } while (cursor !== null && printed < max);
    });

  rel.command('schema')
    .description('replace the relationship schema from a JSON or YAML file, or print the stored one (as YAML)')
    .argument('[file]', 'a .json, .yaml or .yml file')
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (file, options) => {
      if (file === undefined) {
        process.stdout.write(String(await call(options, 'GET', 'v1/relations/schema', undefined, true)));
        return;
      }
      const text = readFileSync(file, 'utf8');
      const type = file.endsWith('.json') ? 'application/json' : 'application/yaml';
      const r = await call(options, 'PUT', 'v1/relations/schema', { text, type }) as { revision: string };
      out(`revision ${r.revision}`);
    });
}
