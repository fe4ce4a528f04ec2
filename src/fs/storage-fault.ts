// Faults of the disk under the state dir (full, read-only, failing), as opposed to bugs or
// bad input: they pass by themselves (space is freed, the disk is remounted), so the daemon
// reports them loudly and waits instead of dying. Pure.

const CODES = ['ENOSPC', 'EDQUOT', 'EROFS', 'EIO'] as const;
export type StorageFault = (typeof CODES)[number];

// git reports the same faults in words (its errno text), not codes.
const WORDS: Array<[StorageFault, RegExp]> = [
  ['ENOSPC', /No space left on device/i],
  ['EDQUOT', /Disk quota exceeded/i],
  ['EROFS', /Read-only file system/i],
  ['EIO', /Input\/output error/i],
];

/** The storage fault an error stands for, looking through its causes; undefined for anything else. */
export function storageFault(error: unknown): StorageFault | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = typeof e === 'object' && 'code' in e ? (e as { code: unknown }).code : undefined;
    if (typeof code === 'string' && (CODES as readonly string[]).includes(code)) return code as StorageFault;
    const text = e instanceof Error ? `${e.message} ${(e as { stderr?: unknown }).stderr ?? ''}` : typeof e === 'string' ? e : '';
    for (const [fault, words] of WORDS) if (words.test(text)) return fault;
  }
  return undefined;
}

export function describeStorageFault(fault: StorageFault): string {
  switch (fault) {
    case 'ENOSPC':
      return 'no space left';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    case 'EIO':
      return 'input/output error (failing disk?)';
  }
}
