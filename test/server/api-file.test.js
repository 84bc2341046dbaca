// The API suite over real HTTP against the file store (the default store).
import t from 'tap';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { httpSender } from '../helpers/http.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { apiSuite } from './api-suite.js';
const dir = await mkdtemp(join(tmpdir(), 'pe-api-file-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const { app } = await testApp(t, { store: new FileStore({ dir }) });
await apiSuite(t, await httpSender(app));
t.test('the files on disk are the documents as written, no temp files left', async (t) => {
    const files = await readdir(dir);
    t.ok(files.includes('global-base.yaml'));
    t.notOk(files.some((f) => f.endsWith('.tmp')));
});
