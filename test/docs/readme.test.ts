// The configuration reference (docs/configuration.md) lists every setting the code reads;
// the README links it and keeps the settings most deployments touch.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/settings.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const reference = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const row = (s: { env: string; flag: string }) => new RegExp(`\\| \`${s.env}\` \\| \`${s.flag}\` \\|`);
for (const s of SETTINGS) {
  t.match(reference, row(s), `${s.env} is in docs/configuration.md`);
}
const listed = [...reference.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
t.same(listed, SETTINGS.map((s) => s.env), 'docs/configuration.md lists the settings once each, in the code\'s order');
for (const env of ['PORT', 'STORE', 'MONGO_URL', 'POLICY_DIR', 'ADMIN_TOKEN', 'DEFAULT_PERMISSIONS']) {
  const s = SETTINGS.find((x) => x.env === env);
  t.ok(s, `${env} is a setting`);
  if (s) t.match(readme, row(s), `${env} is in the README's short table`);
}
t.match(readme, /\(docs\/configuration\.md\)/, 'the README links the full table');
t.match(readme, /npm install && npm start/);
t.match(readme, /npm test/);
// SPEC §7: every setting is listed in the README (the table, or the line after it).
for (const s of SETTINGS) t.match(readme, new RegExp(`\`${s.env}\``), `${s.env} is named in the README`);
