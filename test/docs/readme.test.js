// The README's configuration table lists every setting the code reads.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/settings.js';
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
for (const s of SETTINGS) {
    t.match(readme, new RegExp(`\\| \`${s.env}\` \\| \`${s.flag}\` \\|`), `${s.env} is in the README's configuration table`);
}
t.match(readme, /npm install && npm start/);
t.match(readme, /npm test/);
