// Extended attributes: POSIX ACLs (system.posix_acl_*), file capabilities
// (security.capability), SELinux labels (security.selinux), user.* and trusted.* — read
// with getfattr and written with setfattr (Debian's `attr` package): Node has no xattr
// calls, and a native addon could not live in the one-file bundle images carry. Values are
// kept as getfattr's base64 ("0s…"), exactly the bytes the kernel holds.
import { execFile } from 'node:child_process';
import { OperationError } from '../errors.js';
import { decodeName } from '../fs/names.js';

/** Attribute name → value, base64. */
export type Xattrs = Record<string, string>;

export const MAX_OUTPUT = 256 * 1024 * 1024;
export const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/** getfattr's quoting of a path: every special byte as \ooo (a backslash too). */
function unquote(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x5c && i + 3 < bytes.length && /^[0-7]{3}$/.test(bytes.subarray(i + 1, i + 4).toString('latin1'))) {
      out.push(Number.parseInt(bytes.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else out.push(b);
  }
  return Buffer.from(out);
}

/** Parse `getfattr --absolute-names -d -m - -e base64` output: path (names.ts form) → attributes. Pure. */
export function parseGetfattr(output: Buffer): Map<string, Xattrs> {
  const result = new Map<string, Xattrs>();
  let current: Xattrs | undefined;
  let start = 0;
  while (start < output.length) {
    let end = output.indexOf(0x0a, start);
    if (end === -1) end = output.length;
    const line = output.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    if (line.subarray(0, 8).toString('latin1') === '# file: ') {
      current = {};
      result.set(decodeName(unquote(line.subarray(8))), current);
      continue;
    }
    if (!current) continue;
    const text = line.toString('utf8');
    const eq = text.indexOf('=');
    const name = eq === -1 ? text : text.slice(0, eq);
    const value = eq === -1 ? '' : text.slice(eq + 1).replace(/^0s/, '');
    current[name] = value;
  }
  return result;
}

/** getfattr's arguments for a dump of every attribute, values in base64, symlinks not followed. */
export const GETFATTR_DUMP: readonly string[] = ['--absolute-names', '--no-dereference', '--physical', '--dump', '--match=-', '--encoding=base64'];

/**
 * What a getfattr run means: undefined when getfattr is not installed, else the attributes it
 * printed. An entry removed during the run makes getfattr exit 1 and go on (the next scan sees
 * the truth); any other failure with nothing printed is an error naming `what`. Pure.
 */
export function getfattrOutcome(run: { notInstalled: boolean; failed: boolean; stdout: Buffer; stderr: string }, what: string): Map<string, Xattrs> | undefined {
  if (run.notInstalled) return undefined;
  if (run.failed && run.stdout.length === 0 && !/No such file/.test(run.stderr)) {
    throw new OperationError('ECAPTURE', `cannot read the extended attributes ${what}: ${run.stderr.trim() || 'getfattr failed'}`);
  }
  return parseGetfattr(run.stdout);
}

/**
 * Every extended attribute at or under `root` (just `root` when not `recursive`), symlinks
 * not followed; undefined when getfattr is not installed. Keyed by absolute path.
 */
export function readXattrs(root: string, recursive: boolean): Promise<Map<string, Xattrs> | undefined> {
  const args = [...GETFATTR_DUMP, ...(recursive ? ['--recursive'] : []), '--', root];
  return new Promise((resolve, reject) => {
    execFile('getfattr', args, { encoding: 'buffer', maxBuffer: MAX_OUTPUT, env: TOOL_ENV }, (error, stdout, stderr) => {
      try {
        const notInstalled = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
        resolve(getfattrOutcome({ notInstalled, failed: !!error, stdout, stderr: stderr.toString() }, `under ${root}`));
      } catch (failure) {
        reject(failure);
      }
    });
  });
}

/**
 * A recorded value as setfattr takes it: base64 with its "0s" prefix, but an empty value as
 * `""`: setfattr decodes "0s" to no value at all, so `-v 0s` sets nothing yet exits 0, and a
 * `--restore` line `name=0s` may fail (attr 2.5.1). Pure.
 */
export function setfattrValue(value: string): string {
  return value === '' ? '""' : `0s${value}`;
}

/** Why setting or removing one attribute failed, or undefined. `file` must be a UTF-8 path. */
export function writeXattr(file: string, name: string, value: string | undefined): Promise<string | undefined> {
  const args = value === undefined ? ['--no-dereference', '-x', name, '--', file] : ['--no-dereference', '-n', name, '-v', setfattrValue(value), '--', file];
  return new Promise((resolve) => {
    execFile('setfattr', args, { env: TOOL_ENV, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolve('setfattr is not installed (Debian package attr)');
      resolve(stderr.trim().replace(/^setfattr: /, '') || error.message);
    });
  });
}

/**
 * A path as getfattr --dump writes it and setfattr --restore reads it back: a backslash and
 * every byte outside printable ASCII (a newline too) as \ooo. Pure.
 */
export function quoteDumpPath(file: string): string {
  let out = '';
  for (const byte of Buffer.from(file, 'utf8')) out += byte < 0x20 || byte > 0x7e || byte === 0x5c ? `\\${byte.toString(8).padStart(3, '0')}` : String.fromCharCode(byte);
  return out;
}

/** What `setfattr --restore` reads: each file's attributes to set (values base64, as recorded). Pure. */
export function restoreText(items: ReadonlyArray<{ file: string; xattrs: Xattrs }>): string {
  return items.map(({ file, xattrs }) => `# file: ${quoteDumpPath(file)}\n${Object.entries(xattrs).map(([name, value]) => `${name}=${setfattrValue(value)}\n`).join('')}\n`).join('');
}

/**
 * Set several files' attributes with one `setfattr --restore` (symlinks not followed): one
 * process instead of one per attribute. Undefined when all were set; else what setfattr said
 * (it goes on past a file it cannot change, so the caller sets them one by one to learn which).
 */
export function restoreXattrs(items: ReadonlyArray<{ file: string; xattrs: Xattrs }>): Promise<string | undefined> {
  if (items.length === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = execFile('setfattr', ['--no-dereference', '--restore=-'], { env: TOOL_ENV, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolve('setfattr is not installed (Debian package attr)');
      resolve(stderr.trim() || error.message);
    });
    child.stdin?.on('error', () => undefined); // setfattr gone early: its status says so
    child.stdin?.end(restoreText(items));
  });
}

/** Whether two attribute sets are equal; `security.selinux` that was not recorded is the target system's own. */
export function sameXattrs(recorded: Xattrs | undefined, current: Xattrs | undefined): boolean {
  const a = recorded ?? {};
  const b = { ...(current ?? {}) };
  if (!('security.selinux' in a)) delete b['security.selinux'];
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
