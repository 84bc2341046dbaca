// The playground tests' server: the page bundled into a temporary directory (so these
// tests never race a build of dist/ui), served by testApp's fully wired app, with the
// admin settings a test needs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testApp } from '../helpers/app.js';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Bundle the page into a fresh directory, removed when the test ends. */
export function buildUiBundle(t) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-ui-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-ui.mjs'), '--out', dir, '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
    return dir;
}
export async function uiApp(t, options) {
    // The token goes straight into the configuration: tests use short ones.
    const { app } = await testApp(t, {
        uiAssetsDir: options.assetsDir,
        config: { adminToken: options.adminToken },
        ...(options.loopbackOnly !== undefined ? { loopbackOnly: options.loopbackOnly } : {}),
    });
    return app;
}
