// Replacing a file so that readers (this process's watcher, other replicas sharing the
// volume, an operator's `cat`) see the old content or the new, never a torn write.

import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Write `text` to `dir/name` atomically: a temp file in the same directory (same file
 * system, so rename is atomic), flushed to disk, then renamed over the target. The temp
 * name starts with a dot so directory scans ignore it: `.<stem>.<random>.tmp`.
 */
export async function writeFileAtomic(dir: string, name: string, text: string, stem: string): Promise<void> {
  // Keep the temp name within NAME_MAX (255) even for the longest keys.
  const tmp = join(dir, `.${stem.slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/** Make a rename or unlink durable. Best effort: some file systems refuse to fsync a directory. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The data itself was flushed before the rename; only the directory entry's durability is at stake.
  }
}
