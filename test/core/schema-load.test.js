// The document schema module must load. It compiles its ajv validator at import time,
// so a schema that ajv's strict mode refuses breaks every write, every dynamic
// evaluation and every test that touches documents — with an import-time stack trace
// rather than a named failure. This file names it.
import t from 'tap';
t.test('src/core/document/schema.ts loads and compiles its validator', async (t) => {
    let error;
    try {
        await import('../../src/core/document/schema.js');
    }
    catch (err) {
        error = err;
    }
    t.equal(error === undefined ? undefined : String(error instanceof Error ? error.message : error), undefined, 'importing the schema must not throw. With `new Ajv({ strict: true })`, ajv 8 turns on ' +
        '`strictRequired`, which refuses `anyOf: [{ required: ["grant"] }, ...]` because the ' +
        'branch does not itself define `grant` under `properties`. Fix: pass ' +
        '`strictRequired: false` to the Ajv constructor in src/core/document/schema.ts.');
});
