// Every error code is unique, maps to a 4xx/5xx status, and is documented.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../src/errors.js';
const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const codes = Object.keys(ERROR_CODES);
t.equal(new Set(codes).size, codes.length, 'codes are unique');
for (const [code, { status, description }] of Object.entries(ERROR_CODES)) {
    t.match(code, /^[A-Z][A-Z_]+$/, `${code} is SCREAMING_SNAKE`);
    t.ok(status >= 400 && status < 600, `${code} has an error status`);
    t.ok(description.length > 10, `${code} has a description`);
    t.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} is documented in docs/errors.md with its status`);
}
