// A push without git's pack protocol, for the daemon's one-edit pushes to a master reached as
// a plain shell account: the daemon keeps one `sh` open on the master (shell-session.ts) and
// hands it, per push, this script: the pack of the new commits (inline: a printf format, or
// base64 when big), then the steps receive.denyCurrentBranch=updateInstead takes, in one shell
// instead of ten processes (sshd's session, the login shell, receive-pack, index-pack, the
// connectivity check, the alternates' refs, update-index, diff-files, diff-index, read-tree,
// gc --auto). Pure.
//
// What it keeps of a push: objects are checked as they are written, links included
// (unpack-objects --strict: no commit naming an object the repository lacks, as receive-pack's
// connectivity check ensures); the branch moves only from the commit this host last saw
// acknowledged (update-ref's compare-and-swap, so anything else — another writer, a rewound
// master — is left to `git push`, which records a divergence as always); a working copy the
// update cannot be applied to puts the branch back. Any status but 0 means "nothing changed
// that matters; push the usual way".
//
// What it does per path, not per tree (issue 14: the cost of an edit must not grow with the
// tree): updateInstead checks the whole working copy clean and moves it by a two-tree
// read-tree, which walk every entry of the index and of both trees (about 100 ms each at 50k
// files). Here git itself writes the change between the two commits just unpacked as a patch
// (diff-tree --binary --full-index: nothing the client says about paths is trusted), and
// `git apply --index` applies it to the index and the working copy at once, in one process
// that reads and writes the index once. It refuses, changing nothing, when a path the patch
// touches differs in the working copy or the index from the commit before (an admin's edit,
// a staged change), or when a file it would create is there already (untracked or ignored):
// what read-tree -u -m refuses. A change an admin left in another file on the master stays
// as it is, as `git merge --ff-only` leaves it.
//
// What apply does not see before it writes, the update checks first (inTheWay): an untracked
// symlink or file where a path it adds needs a directory (apply looks for leading symlinks in
// the index only, and wrote through such a link, out of the working copy; a file there it
// finds only once it has removed and rewritten other paths), and a directory where it adds a
// file (an admin's file in it, likewise; telling one from the files the update itself
// deletes there would walk the directory, so a file that replaces a directory goes by git
// push too). read-tree refuses these before anything changes; here they are left to git
// push, before the branch moves (98).
import { MASTER_INDEX_SETTINGS } from './layout.js';
import { printfFormat, shellCommand, shellQuote } from './shell-quote.js';

/** A pack larger than this goes by `git push` (objects it holds land loose here; big ones belong in a pack). */
export const FAST_UPDATE_MAX_PACK_BYTES = 1024 * 1024;

/**
 * A patch bigger than this is not applied in one round trip: the update answers 97 and the
 * daemon pushes with git, whose checkout writes the files without a patch. The patch carries
 * every byte a change removes as well as what it adds (a binary file's in both directions): a
 * 100 MB file deleted made a 155 MB patch and cost diff-tree 3 s and 425 MB on the master,
 * whose pack was a few hundred bytes. Bounds the patch file (the plain account's script,
 * `ulimit -f`) and the gate's buffer. The daemon does not ask when its change would come near
 * (fitsOnePatch), so the master does not do the work to find out.
 */
export const FAST_UPDATE_MAX_PATCH_BYTES = 8 * 1024 * 1024;

/**
 * Whether a change whose files' contents, removed and added, come to `contentBytes` makes a
 * patch the master takes: a text patch is its lines with one more character each (at most
 * twice the bytes), a binary one deflated and in base85 (at most 1.25 times). Pure.
 */
export function fitsOnePatch(contentBytes: number): boolean {
  return contentBytes <= FAST_UPDATE_MAX_PATCH_BYTES / 2;
}

/** Every this many updates in one session, the script ends with `git gc --auto` (receive-pack's own habit). */
export const FAST_UPDATE_GC_EVERY = 100;

/** The steps that write the index pass its settings themselves: repositories made by an older pacha lack them. */
const INDEX_CONFIG = MASTER_INDEX_SETTINGS.flatMap(([key, value]) => ['-c', `${key}=${value}`]);

const SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/**
 * A pack up to this size goes in the script as a printf format (a shell builtin: no process),
 * a bigger one as base64 for `base64 -d`. One edit's pack is a few KB (the metadata
 * goes as a delta); an external printf still takes the format (4 × 24 KiB < 128 KiB an argument).
 */
export const PRINTF_MAX_PACK_BYTES = 24 * 1024;

/** Bytes per base64 line of the pack in the script (57 × 64: whole 76-character groups). */
const BASE64_LINE_BYTES = 57 * 64;

/** The heredoc's end: '_' is not in base64's alphabet, so no line of the pack can be it. */
const PACK_END = 'PACHA_PACK_END';

export interface FastUpdate {
  /** The repository's working copy on the master (<hosts_path>/<host>/<name>). */
  repo: string;
  /** The commit the master acknowledged last (refs/pacha/pushed here): the branch must still be it. */
  from: string;
  /** The new head. */
  to: string;
  /** `git pack-objects --revs` of to ^from: every object the master lacks. */
  pack: Buffer;
  /** Also run `git gc --auto` after the update. */
  gc?: boolean;
}

/** What a status of the script means (for logs; every non-zero status falls back to git push). */
export const FAST_UPDATE_STATUS: Readonly<Record<number, string>> = {
  90: 'no such repository',
  93: 'the pack was not unpacked',
  94: 'the branch on the master is not the commit last acknowledged',
  95: 'the working copy on the master differs from the branch in a path this update changes, or could not be written (the branch was put back)',
  96: 'the commits could not be compared',
  97: `the change is bigger than ${FAST_UPDATE_MAX_PATCH_BYTES} bytes as a patch (git push moves it)`,
  98: 'something on the master is in the way of a path this update adds (a symlink or a file where it needs a directory, a directory where it puts a file)',
};

/** The status of a shell whose child was stopped by SIGXFSZ (a file over `ulimit -f`): 128 + 25 on Linux. */
const KILLED_BY_FILE_SIZE = 153;

/**
 * git's argv for each step, run in the repository's working copy (the gate runs them by argv,
 * the plain account as a script). `patch` writes the change from..to on its stdout; `apply`
 * reads it on its stdin. `patchEnv` for `patch`: it reads no index (diff-tree reads one for
 * attributes, which --binary patches do not need: a 50k-entry index is ~8 ms).
 */
export function fastUpdateSteps(from: string, to: string): {
  unpack: string[];
  patch: string[];
  patchEnv: Record<string, string>;
  added: string[];
  deleted: string[];
  move: string[];
  apply: string[];
  undo: string[];
  gc: string[];
} {
  if (!SHA.test(from) || !SHA.test(to)) throw new Error(`fast update: ${JSON.stringify(from)}..${JSON.stringify(to)} are not object names`);
  return {
    unpack: ['git', 'unpack-objects', '-q', '--strict'],
    patch: ['git', 'diff-tree', '-p', '--binary', '--full-index', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/', from, to],
    patchEnv: { GIT_INDEX_FILE: `.git/${NO_INDEX}` },
    added: ['git', 'diff-tree', '-r', '-z', '--no-renames', '--diff-filter=A', '--name-only', from, to],
    deleted: ['git', 'diff-tree', '-r', '-z', '--no-renames', '--diff-filter=D', '--name-only', from, to],
    move: ['git', 'update-ref', '-m', 'push', 'refs/heads/main', to, from],
    apply: ['git', ...INDEX_CONFIG, '-c', 'apply.whitespace=nowarn', 'apply', '--index', '-'],
    undo: ['git', 'update-ref', '-m', 'push undone', 'refs/heads/main', from, to],
    gc: ['git', '-c', 'gc.autoDetach=false', 'gc', '--auto', '--quiet'],
  };
}

/** A name in the git dir no file has: the index of the patch step (none). */
const NO_INDEX = 'pacha-no-index';

/** Whether a name is a full object name (the only revisions an update names). Pure. */
export function isObjectName(name: string): boolean {
  return SHA.test(name);
}

/** The shell script for one update; its stdout is empty, its output goes to stderr. */
export function fastUpdateScript(update: FastUpdate): string {
  const { repo, from, to, pack } = update;
  const steps = fastUpdateSteps(from, to);
  const env = Object.entries(steps.patchEnv).map(([name, value]) => `${name}=${shellQuote(value)} `).join('');
  return [
    '(',
    `cd ${shellQuote(repo)} && [ -d .git ] || exit 90`,
    // The patch in a private file of the git dir: a diff-tree that fails half-way is seen before anything moves.
    `patch=.git/${PATCH_FILE}.$$`,
    'trap \'rm -f "$patch"\' EXIT',
    ...packInto(`${shellCommand(steps.unpack)} || exit 93`, pack),
    // At most FAST_UPDATE_MAX_PATCH_BYTES (ulimit -f counts 512-byte blocks in dash and in bash as sh; under a lower hard limit
    // it cannot be set, and the lower one holds), no core file from the signal.
    `(ulimit -c 0; ulimit -f ${FAST_UPDATE_MAX_PATCH_BYTES / 512} 2>/dev/null; ${env}${shellCommand(steps.patch)} >"$patch") || { [ $? -eq ${KILLED_BY_FILE_SIZE} ] && exit 97; exit 96; }`,
    // Only a patch that adds a path can have something in its way: one grep, not two processes, for an edit (status 1: no
    // header; anything else, grep missing included, checks).
    `grep -q ${shellQuote(ADDED_HEADER_PATTERN)} "$patch"; [ $? -eq 1 ] || { ${shellCommand(steps.added)} | xargs -0 -r sh -c ${shellQuote(inTheWayScript(from))} sh || exit 98; }`,
    `${shellCommand(steps.move)} || exit 94`,
    `[ ! -s "$patch" ] || ${shellCommand(steps.apply)} <"$patch" || { ${shellCommand(steps.undo)}; exit 95; }`,
    ...(update.gc ? [shellCommand(steps.gc)] : []),
    'exit 0',
    ') </dev/null >&2',
  ].join('\n');
}

/**
 * inTheWay for the plain account: `sh -c` over the paths the update adds (its arguments, from
 * `added` by `xargs -0`), exit 1 when one is a real directory, or has a leading component
 * that is there and is not a real directory (a symlink, a file) unless the update deletes it
 * (a blob in FROM: a file that becomes a directory); the gate decides the same by lstat and
 * `deleted` (session.ts: its argv cannot carry a name that is not UTF-8). Pure.
 */
function inTheWayScript(from: string): string {
  return [
    'for p; do',
    '  if [ -d "$p" ] && [ ! -L "$p" ]; then exit 1; fi',
    '  l=$p',
    '  while [ "${l%/*}" != "$l" ]; do',
    '    l=${l%/*}',
    '    if [ -L "$l" ] || { [ -e "$l" ] && [ ! -d "$l" ]; }; then',
    `      [ "$(git cat-file -t ${from}:"$l" 2>/dev/null)" = blob ] || exit 1`,
    '    fi',
    '  done',
    'done',
  ].join('\n');
}

/**
 * The header git writes for each path a patch adds (`new file mode 100644`, for a symlink
 * too): at the start of a line, as no line of content is (they start with ' ', '+' or '-')
 * and no line of a binary hunk can be (base85 has no space).
 */
const ADDED_HEADER = 'new file mode ';
const ADDED_HEADER_PATTERN = `^${ADDED_HEADER}`;

/** Whether a patch of diff-tree's adds a path (the gate's test before inTheWay, as the plain account's grep). Pure. */
export function patchAddsPaths(patch: Buffer): boolean {
  // Every header follows a newline: a patch starts with its first `diff --git` line.
  return patch.includes(`\n${ADDED_HEADER}`, 0, 'latin1');
}

/** The file in the repository's git dir that holds one update's patch while it runs (the plain account's script). */
export const PATCH_FILE = 'pacha-update-patch';

/** The script's lines that feed the pack's bytes to `unpack` (a command line ending in its own `|| exit`). Pure. */
function packInto(unpack: string, pack: Buffer): string[] {
  if (pack.length <= PRINTF_MAX_PACK_BYTES) return [`printf ${printfFormat(pack)} | ${unpack}`];
  // Lines of 4,864 characters (3,648 bytes each: a multiple of 3, so the lines join into one
  // base64 text), made from slices rather than by a regular expression over the whole text.
  const lines: string[] = [];
  for (let at = 0; at < pack.length; at += BASE64_LINE_BYTES) lines.push(`${pack.subarray(at, at + BASE64_LINE_BYTES).toString('base64')}\n`);
  return [`base64 -d <<'${PACK_END}' | ${unpack}`, `${lines.join('')}${PACK_END}`];
}
