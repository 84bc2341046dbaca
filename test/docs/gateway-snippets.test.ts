// docs/gateways.md shows the gateway configs the tests actually run: the nginx server
// block and the Caddy site block come from test/helpers/gateways.ts, the route table
// from the same helper.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { ROUTES_YAML, caddySiteBlock, nginxServerBlock } from '../helpers/gateways.js';

const doc = readFileSync(new URL('../../docs/gateways.md', import.meta.url), 'utf8');

t.test('the nginx and Caddy snippets are the ones the gateway tests run', async (t) => {
  t.ok(doc.includes(nginxServerBlock(8081, 8080, 3000).trim()), 'nginx server block');
  t.ok(doc.includes(caddySiteBlock(8081, 8080, 3000).trim()), 'Caddy site block');
  t.ok(doc.includes(ROUTES_YAML.trim()), 'the route table');
  t.notOk(doc.includes(nginxServerBlock(8081, 8080, 3001).trim()), 'the check can fail');
});
