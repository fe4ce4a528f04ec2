// The gate under generated input (fast-check): thousands of SSH_ORIGINAL_COMMANDs built from
// the pieces an attacker would combine (verbs, quoting, '..', other hosts, symlink names, NUL,
// newlines, shell metacharacters, long names). None may reach outside the key's host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { decideRequest, unquoteGitArgument, type GateIdentity } from '../../../src/master/gate/decide.js';
import { REFUSED_STATUS } from '../../../src/master/gate/protocol.js';
import { serve } from '../../../src/master/gate/serve.js';
import { repositoryNameProblem } from '../../../src/master/layout.js';
import { tempDir } from '../../helpers/tmp.js';
import { snapshot } from '../../helpers/tree.js';

const HOSTS = '/srv/pacha hosts';
const identity: GateIdentity = { host: 'alpha', hostsPath: HOSTS };

/** git's own quoting (sq_quote_buf): what a well-behaved client sends. */
const gitQuote = (s: string): string => `'${s.replace(/'/g, "'\\''").replace(/!/g, "'\\!'")}'`;

const piece = fc.constantFrom(
  'alpha', 'bravo', 'alpha.', '.alpha', 'ALPHA', 'alpha-1', '..', '.', '', 'etc', 'pacha_pre', 'pacha_post', '.git',
  'evil-link', '-rf', '*', '$(id)', '`id`', ';id', '|id', '&', '>x', '\\', "'", '"', '\n', '\r', '\t', '\0', ' ', '~', 'é',
  'a'.repeat(300), HOSTS, '/etc', '/srv', 'srv', 'pacha hosts',
);
const pathLike = fc.array(piece, { minLength: 0, maxLength: 6 }).map((parts) => parts.join('/'));
const verb = fc.constantFrom(
  'git-upload-pack', 'git-receive-pack', 'git-upload-archive', 'git upload-pack', 'pacha-gate', 'pacha-gate hello', 'pacha-gate hosts',
  'pacha-gate describe', 'pacha-gate add-host', 'pacha-gate ensure-repository', 'pacha-gate hooks', 'cat', 'sh -c', 'scp -t', 'internal-sftp', 'rsync --server',
);
const quoting = fc.constantFrom<(s: string) => string>(
  (s) => s,
  gitQuote,
  (s) => `"${s}"`,
  (s) => `'${s}'`,
  (s) => `${gitQuote(s)} ${gitQuote(s)}`,
  (s) => `${HOSTS}/alpha/${s}`,
  (s) => gitQuote(`${HOSTS}/alpha/${s}`),
  (s) => gitQuote(`${HOSTS}/${s}`),
  (s) => `alpha ${s}`,
  (s) => `alpha ${s} pre`,
);
const command = fc.oneof(
  fc.tuple(verb, quoting, pathLike).map(([v, q, p]) => `${v} ${q(p)}`),
  fc.tuple(verb, fc.array(piece, { maxLength: 4 })).map(([v, args]) => [v, ...args].join(' ')),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

test('decideRequest: no generated command is allowed outside the key host; names allowed are names pacha makes', () => {
  fc.assert(
    fc.property(command, (cmd) => {
      const decision = decideRequest(cmd, identity);
      if (!decision.allowed) {
        assert.ok(decision.reason.length > 0 && !decision.reason.includes('\n'), 'one-line reason');
        return;
      }
      const r = decision.request;
      assert.ok(!/[^\x20-\x7e]/.test(cmd), 'only printable ASCII is ever allowed');
      if ('host' in r) assert.equal(r.host, 'alpha', cmd);
      if ('name' in r) {
        assert.equal(repositoryNameProblem(r.name), undefined, cmd);
        const dir = path.posix.join(HOSTS, r.host, r.name);
        assert.ok(dir.startsWith(`${HOSTS}/alpha/`) && !dir.slice(HOSTS.length).includes('..'), cmd);
      }
      if (r.verb === 'upload-pack' || r.verb === 'receive-pack') {
        // The one path git may be handed is exactly <hosts_path>/alpha/<name>.
        assert.equal(unquoteGitArgument(cmd.slice(cmd.indexOf(' ') + 1)), `${HOSTS}/alpha/${r.name}`, cmd);
      }
    }),
    { numRuns: 20_000 },
  );
});

test("decideRequest: every command pacha's client sends for its own host is allowed (the gate is usable)", () => {
  const name = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,40}$/).filter((n) => repositoryNameProblem(n) === undefined);
  fc.assert(
    fc.property(name, fc.constantFrom('git-upload-pack', 'git-receive-pack'), (n, v) => {
      assert.ok(decideRequest(`${v} ${gitQuote(`${HOSTS}/alpha/${n}`)}`, identity).allowed);
      assert.ok(decideRequest(`pacha-gate ensure-repository alpha ${n}`, identity).allowed);
    }),
    { numRuns: 2_000 },
  );
  for (const cmd of ['pacha-gate hello', 'pacha-gate hosts', 'pacha-gate describe alpha', 'pacha-gate hooks alpha pre', 'pacha-gate hooks alpha post', 'pacha-gate add-host alpha']) {
    assert.ok(decideRequest(cmd, identity).allowed, cmd);
  }
});

test('unquoteGitArgument reads back exactly what git quoted, and nothing looser', () => {
  fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => assert.equal(unquoteGitArgument(gitQuote(s)), s)));
  for (const loose of ['/a/b', "'a'b", "'a", "'a'\\'", "'a' 'b'", '"a"', "'a'\\x'b'"]) assert.equal(unquoteGitArgument(loose), undefined, loose);
});

const sink = (): Writable & { text: () => string } => {
  let text = '';
  const stream = new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) });
  return Object.assign(stream, { text: () => text });
};

test('serve() on a real master with symlinks planted under alpha: generated requests change nothing outside alpha', async () => {
  const root = tempDir('pacha-gate-fuzz-');
  const hostsPath = path.join(root, 'hosts');
  for (const host of ['alpha', 'bravo']) mkdirSync(path.join(hostsPath, host, 'pacha_pre'), { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', path.join(hostsPath, 'bravo', 'etc')]);
  writeFileSync(path.join(hostsPath, 'bravo', 'etc', 'secret.conf'), 'bravo\n', { mode: 0o600 });
  writeFileSync(path.join(hostsPath, 'bravo', 'pacha_pre', '00'), '#!/bin/sh\n', { mode: 0o755 });
  // Planted by hand (a host cannot make these): links from alpha into bravo and out of the master.
  symlinkSync(path.join(hostsPath, 'bravo', 'etc'), path.join(hostsPath, 'alpha', 'evil-link'));
  symlinkSync(path.join(hostsPath, 'bravo', 'pacha_pre'), path.join(hostsPath, 'alpha', 'pacha_post'));
  symlinkSync('/etc', path.join(hostsPath, 'alpha', 'etc'));
  const outsideAlpha = (): Record<string, unknown> =>
    Object.fromEntries(Object.entries(snapshot(root)).filter(([k]) => !k.startsWith('hosts/alpha/') && k !== 'hosts/alpha'));
  const before = outsideAlpha();
  const logFile = path.join(tempDir('pacha-gate-log-'), 'serve.log');
  const handedToGit: string[] = [];
  const umask = process.umask();
  const gateVerbs = fc.constantFrom('hello', 'hosts', 'describe', 'add-host', 'ensure-repository', 'hooks', 'nope');
  const arg = fc.constantFrom('alpha', 'bravo', 'evil-link', 'etc', 'pacha_pre', 'pacha_post', '..', 'pre', 'post', 'x', '$(id)', '');
  const planted = fc.constantFrom(
    'pacha-gate hooks alpha post',
    'pacha-gate ensure-repository alpha evil-link',
    'pacha-gate ensure-repository alpha etc',
    `git-upload-pack ${gitQuote(`${hostsPath}/alpha/evil-link`)}`,
    `git-receive-pack ${gitQuote(`${hostsPath}/alpha/etc`)}`,
    `git-receive-pack ${gitQuote(`${hostsPath}/alpha/pacha_post`)}`,
  );
  const request = fc.oneof(
    planted,
    fc.tuple(gateVerbs, fc.array(arg, { maxLength: 3 })).map(([v, a]) => ['pacha-gate', v, ...a].join(' ')),
    fc.tuple(fc.constantFrom('git-upload-pack', 'git-receive-pack'), arg, arg).map(([v, h, n]) => `${v} ${gitQuote(`${hostsPath}/${h}/${n}`)}`),
    command,
  );
  try {
    await fc.assert(
      fc.asyncProperty(request, async (cmd) => {
        const out = sink();
        const err = sink();
        // git itself is not run here: what matters is which directory it would have been handed.
        const runGit = async (_verb: string, repo: string): Promise<number> => {
          assert.equal(path.dirname(repo), path.join(hostsPath, 'alpha'), cmd);
          assert.ok(lstatSync(repo).isDirectory() && lstatSync(path.join(repo, '.git')).isDirectory(), `a real repository: ${cmd}`);
          handedToGit.push(repo);
          return 0;
        };
        const status = await serve({ host: 'alpha', hostsPath, command: cmd, logFile, stdout: out, stderr: err, runGit });
        assert.deepEqual(outsideAlpha(), before, cmd);
        assert.ok(!out.text().includes('bravo\n') && !out.text().includes('#!/bin/sh'), `nothing of bravo is answered: ${cmd}`);
        if (status === REFUSED_STATUS) assert.match(err.text(), /^pacha serve: refused: [^\n]+\n$/);
      }),
      { numRuns: 400 },
    );
  } finally {
    process.umask(umask);
  }
  // The symlinks were refused, not followed: alpha's only real entries are what the gate made.
  assert.ok(lstatSync(path.join(hostsPath, 'alpha', 'evil-link')).isSymbolicLink());
  assert.match(readFileSync(logFile, 'utf8'), /refused: .*is a symlink; the gate never follows one/);
  assert.ok(!handedToGit.some((repo) => /evil-link|\/etc$|pacha_post/.test(repo)), handedToGit.join(', '));
});
