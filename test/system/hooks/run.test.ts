import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  HookError,
  type OutputStream,
  orderHooks,
  runHooks,
  type HookPhase,
  type RunHooksOptions,
} from '../../../src/hooks/index.js';
import { OperationError } from '../../../src/errors.js';
import { hookDirs, isAlive, listHookEntries, readLines, waitGone, writeHook, type HookDirs } from './fixtures.js';

function options(dirs: HookDirs, phase: HookPhase, names: readonly string[], extra: Partial<RunHooksOptions> = {}): RunHooksOptions {
  return {
    phase,
    dir: dirs.hooks,
    names,
    cwd: dirs.stage,
    env: { PACHA_HOST: 'bar', PACHA_STAGE: dirs.stage, PACHA_ROOT: '/srv/root' },
    timeoutSeconds: 60,
    ...extra,
  };
}

/** A hook that appends its own name to markers/order. */
const appendName = (dirs: HookDirs) => `printf '%s\\n' "$(basename "$0")" >> '${dirs.markers}/order'`;

test('hooks run in C-locale order, from a listing of a real directory', async () => {
  const dirs = hookDirs();
  for (const name of ['10-a', '02-b', 'a', 'B', 'ü-x']) writeHook(dirs.hooks, name, appendName(dirs));
  const { run, skipped } = orderHooks(listHookEntries(dirs.hooks));
  assert.deepEqual(skipped, []);
  const outcome = await runHooks(options(dirs, 'pre', run));
  assert.deepEqual(outcome.failures, []);
  assert.deepEqual(readLines(path.join(dirs.markers, 'order')), ['02-b', '10-a', 'B', 'a', 'ü-x']);
  assert.deepEqual(outcome.results.map((r) => [r.name, r.exitCode, r.signal, r.timedOut]), [
    ['02-b', 0, null, false],
    ['10-a', 0, null, false],
    ['B', 0, null, false],
    ['a', 0, null, false],
    ['ü-x', 0, null, false],
  ]);
});

test('non-executable files, directories, symlinks and backups are skipped, not run, not chmod-ed', async () => {
  const dirs = hookDirs();
  writeHook(dirs.hooks, '10-run', appendName(dirs));
  writeHook(dirs.hooks, '20-plain', appendName(dirs), 0o644);
  writeHook(dirs.hooks, '30-backup~', appendName(dirs));
  writeHook(dirs.hooks, '40-x.dpkg-old', appendName(dirs));
  writeHook(dirs.hooks, '.hidden', appendName(dirs));
  mkdirSync(path.join(dirs.hooks, '50-dir'));
  symlinkSync('10-run', path.join(dirs.hooks, '60-link'));
  const { run, skipped } = orderHooks(listHookEntries(dirs.hooks));
  assert.deepEqual(run, ['10-run']);
  assert.deepEqual(skipped.map((s) => s.name), ['.hidden', '20-plain', '30-backup~', '40-x.dpkg-old', '50-dir', '60-link']);
  await runHooks(options(dirs, 'post', run));
  assert.deepEqual(readLines(path.join(dirs.markers, 'order')), ['10-run']);
  assert.deepEqual(listHookEntries(dirs.hooks).find((e) => e.name === '20-plain')?.mode, 0o644);
});

test('a hook sees the stage as its directory and only a minimal environment: PACHA_* but no secrets', async (t) => {
  const secrets = { PACHA_SSH_PRIVATE_KEY: 'PRIVATE-KEY-MATERIAL', AWS_SECRET_ACCESS_KEY: 'aws-secret-value' };
  const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
  Object.assign(process.env, secrets);
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const dirs = hookDirs();
  writeHook(dirs.hooks, '10-env', `env > '${dirs.markers}/env'; pwd > '${dirs.markers}/pwd'`);
  const outcome = await runHooks(options(dirs, 'post', ['10-env']));
  assert.deepEqual(outcome.failures, []);

  const text = readFileSync(path.join(dirs.markers, 'env'), 'utf8');
  const env = Object.fromEntries(text.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(env.PACHA_HOST, 'bar');
  assert.equal(env.PACHA_PHASE, 'post');
  assert.equal(env.PACHA_STAGE, dirs.stage);
  assert.equal(env.PACHA_ROOT, '/srv/root');
  assert.equal(env.LANG, 'C');
  assert.equal(env.PATH, process.env.PATH);
  for (const [name, value] of Object.entries(secrets)) {
    assert.equal(env[name], undefined, `${name} leaked into the hook`);
    assert.ok(!text.includes(value), `the value of ${name} leaked into the hook`);
  }
  // Nothing else of ours: only what we set, plus what sh itself adds.
  const allowed = new Set(['PATH', 'HOME', 'LANG', 'PACHA_HOST', 'PACHA_PHASE', 'PACHA_STAGE', 'PACHA_ROOT', 'PWD', 'OLDPWD', 'SHLVL', '_']);
  assert.deepEqual(Object.keys(env).filter((k) => !allowed.has(k)), []);
  assert.equal(readFileSync(path.join(dirs.markers, 'pwd'), 'utf8').trim(), dirs.stage);
});

test('pre phase: the first failure stops the phase; later hooks do not run', async () => {
  const dirs = hookDirs();
  writeHook(dirs.hooks, '01-ok', appendName(dirs));
  writeHook(dirs.hooks, '02-fail', `${appendName(dirs)}\necho 'apt-get: package foo not found' >&2\nexit 3`);
  writeHook(dirs.hooks, '03-later', appendName(dirs));
  const outcome = await runHooks(options(dirs, 'pre', ['01-ok', '02-fail', '03-later']));

  assert.deepEqual(readLines(path.join(dirs.markers, 'order')), ['01-ok', '02-fail']);
  assert.deepEqual(outcome.results.map((r) => [r.name, r.exitCode]), [['01-ok', 0], ['02-fail', 3]]);
  assert.equal(outcome.failures.length, 1);
  const error = outcome.failures[0];
  assert.ok(error instanceof HookError);
  assert.ok(error instanceof OperationError);
  assert.equal(error.code, 'EHOOK');
  assert.equal(error.exitCode, 1);
  assert.equal(error.phase, 'pre');
  assert.match(error.message, /^pre hook "02-fail" failed: exit code: 3$/m);
  assert.ok(error.message.includes(path.join(dirs.hooks, '02-fail')));
  assert.match(error.message, /apt-get: package foo not found/);
  assert.match(error.hint ?? '', /before touching any file/);
  assert.deepEqual(error.toJSON().hook, '02-fail');
});

test('post phase: every hook runs and each failure is reported', async () => {
  const dirs = hookDirs();
  writeHook(dirs.hooks, '01-fail', `${appendName(dirs)}\nexit 1`);
  writeHook(dirs.hooks, '02-ok', appendName(dirs));
  writeHook(dirs.hooks, '03-fail', `${appendName(dirs)}\necho first >&2\necho second >&2\nexit 127`);
  const outcome = await runHooks(options(dirs, 'post', ['01-fail', '02-ok', '03-fail']));

  assert.deepEqual(readLines(path.join(dirs.markers, 'order')), ['01-fail', '02-ok', '03-fail']);
  assert.deepEqual(outcome.results.map((r) => [r.name, r.exitCode]), [['01-fail', 1], ['02-ok', 0], ['03-fail', 127]]);
  assert.deepEqual(outcome.failures.map((f) => f.result.name), ['01-fail', '03-fail']);
  assert.match(outcome.failures[0]?.message ?? '', /post hook "01-fail" failed: exit code: 1 \(general error\)/);
  assert.match(outcome.failures[0]?.message ?? '', /it wrote nothing to stderr/);
  assert.match(outcome.failures[1]?.message ?? '', /exit code: 127 \(a command inside it was not found\)/);
  assert.match(outcome.failures[1]?.message ?? '', /last 2 line\(s\) of its stderr:\n {4}first\n {4}second/);
  assert.match(outcome.failures[1]?.hint ?? '', /Every file is in place/);
});

test('a timed-out hook is killed with its whole process group', async (t) => {
  const dirs = hookDirs();
  const pidFile = path.join(dirs.markers, 'child.pid');
  writeHook(dirs.hooks, '10-hang', `sleep 100 &\necho $! > '${pidFile}'\necho 'waiting for the network' >&2\nwait`);
  writeHook(dirs.hooks, '20-after', appendName(dirs));
  const outcome = await runHooks(options(dirs, 'pre', ['10-hang', '20-after'], { timeoutSeconds: 1 }));

  const [result] = outcome.results;
  assert.equal(outcome.results.length, 1);
  assert.equal(result?.timedOut, true);
  assert.equal(result?.signal, 'SIGTERM');
  assert.equal(result?.exitCode, null);
  assert.match(outcome.failures[0]?.message ?? '', /pre hook "10-hang" failed: killed by SIGTERM after timeout 1 s/);
  assert.match(outcome.failures[0]?.message ?? '', /waiting for the network/);
  const child = Number(readLines(pidFile)[0]);
  t.after(() => { if (isAlive(child)) process.kill(child, 'SIGKILL'); });
  assert.ok(child > 0);
  assert.ok(await waitGone(child), `the hook's child ${child} survived the timeout`);
  assert.deepEqual(readLines(path.join(dirs.markers, 'order')), []);
});

test('a hook that ignores SIGTERM is killed with SIGKILL after the grace period, children too', async (t) => {
  const dirs = hookDirs();
  const pidFile = path.join(dirs.markers, 'child.pid');
  // SIG_IGN is inherited, so the child ignores SIGTERM as well.
  writeHook(dirs.hooks, '10-stubborn', `trap '' TERM\nsleep 100 &\necho $! > '${pidFile}'\nwhile :; do wait; done`);
  const outcome = await runHooks(options(dirs, 'post', ['10-stubborn'], { timeoutSeconds: 1, killGraceMs: 200 }));
  const child = Number(readLines(pidFile)[0]);
  t.after(() => { if (isAlive(child)) process.kill(child, 'SIGKILL'); });

  assert.equal(outcome.results[0]?.timedOut, true);
  assert.equal(outcome.results[0]?.signal, 'SIGKILL');
  assert.match(outcome.failures[0]?.message ?? '', /killed by SIGKILL after timeout 1 s/);
  assert.ok(await waitGone(child), `the hook's child ${child} survived SIGKILL`);
});

test('output is delivered line by line with the name of the hook that wrote it', async () => {
  const dirs = hookDirs();
  writeHook(dirs.hooks, '10-talk', `echo one\necho 'oops' >&2\nprintf 'two\\nno newline'`);
  writeHook(dirs.hooks, '20-talk', `echo 'ü-x done'`);
  const lines: [string, OutputStream, string][] = [];
  await runHooks(options(dirs, 'post', ['10-talk', '20-talk'], { onOutput: (name, stream, line) => lines.push([name, stream, line]) }));

  assert.deepEqual(lines.filter(([, s]) => s === 'stdout'), [
    ['10-talk', 'stdout', 'one'],
    ['10-talk', 'stdout', 'two'],
    ['10-talk', 'stdout', 'no newline'],
    ['20-talk', 'stdout', 'ü-x done'],
  ]);
  assert.deepEqual(lines.filter(([, s]) => s === 'stderr'), [['10-talk', 'stderr', 'oops']]);
});

test('a hook that leaves a background process holding its output does not hang the phase', async (t) => {
  const dirs = hookDirs();
  const pidFile = path.join(dirs.markers, 'daemon.pid');
  writeHook(dirs.hooks, '10-daemon', `sleep 100 &\necho $! > '${pidFile}'\necho started\nexit 0`);
  const lines: string[] = [];
  const outcome = await runHooks(options(dirs, 'post', ['10-daemon'], { timeoutSeconds: 30, onOutput: (_n, _s, l) => lines.push(l) }));
  const daemon = Number(readLines(pidFile)[0]);
  t.after(() => { if (isAlive(daemon)) process.kill(daemon, 'SIGKILL'); });

  assert.deepEqual(outcome.failures, []);
  assert.equal(outcome.results[0]?.exitCode, 0);
  assert.equal(outcome.results[0]?.timedOut, false);
  assert.deepEqual(lines, ['started']);
});

test('a hook that cannot be started fails with the reason', async () => {
  const dirs = hookDirs();
  // A shebang naming an interpreter this host does not have (the seed: "you may not have Ruby installed").
  writeFileSync(path.join(dirs.hooks, '10-ruby'), '#!/nonexistent/ruby\nputs 1\n', { mode: 0o755 });
  const outcome = await runHooks(options(dirs, 'pre', ['10-ruby']));
  assert.equal(outcome.results[0]?.startError, 'ENOENT');
  assert.equal(outcome.results[0]?.exitCode, null);
  assert.match(outcome.failures[0]?.message ?? '', /pre hook "10-ruby" failed: could not be started \(ENOENT: .*interpreter.*\)/);
});

test('no hooks: nothing runs, nothing fails', async () => {
  const dirs = hookDirs();
  assert.deepEqual(await runHooks(options(dirs, 'pre', [])), { phase: 'pre', results: [], failures: [] });
});
