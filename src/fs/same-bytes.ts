// Whether two regular files hold the same bytes, read in chunks (never whole into memory),
// neither followed if it is a symlink.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fsPath } from './names.js';

const CHUNK = 64 * 1024;

export async function sameBytes(a: string, b: string): Promise<boolean> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW;
  const [fa, fb] = await Promise.all([open(fsPath(a), flags), open(fsPath(b), flags)]);
  try {
    const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    const bufA = Buffer.allocUnsafe(CHUNK);
    const bufB = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(bufA, 0, CHUNK, null), fb.read(bufB, 0, CHUNK, null)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (ra.bytesRead === 0) return true;
      if (!bufA.subarray(0, ra.bytesRead).equals(bufB.subarray(0, rb.bytesRead))) return false;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}
