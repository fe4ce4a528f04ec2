import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, ExitCode, exitCodeOf, isErrorCode } from '../../src/error-codes.js';
import { ConfigError, MasterError, MasterUnreachableError, OperationError, PachaError, UsageError } from '../../src/errors.js';
import { DaemonLockedError } from '../../src/daemon/lock.js';
import { hostsPathMissing, notADirectory } from '../../src/master/master-errors.js';

test('a PachaError takes its exit status from its code', () => {
  assert.equal(new PachaError('EDAEMONLOCKED', 'x').exitCode, ExitCode.usage);
  assert.equal(new PachaError('ELOCKCHANGING', 'x').exitCode, ExitCode.failed);
  assert.equal(new OperationError('EHOOK', 'x').exitCode, ExitCode.failed);
  assert.equal(new MasterUnreachableError('x', { code: 'EPUSHKEY' }).exitCode, ExitCode.unreachable);
  assert.equal(new UsageError('x').code, 'EUSAGE');
  assert.equal(new ConfigError('x').exitCode, ExitCode.usage);
  assert.equal(new MasterError('x').exitCode, ExitCode.failed);
});

test('a second daemon is exit 2 wherever it is found', () => {
  const error = new DaemonLockedError('/var/lib/pacha/daemon.lock', 42);
  assert.equal(error.code, 'EDAEMONLOCKED');
  assert.equal(error.exitCode, 2);
});

test("no pacha code is an errno name (ENOTDIR and friends mean the system's words)", () => {
  const errno = ['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EIO', 'EEXIST', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE'];
  for (const code of errno) assert.equal(isErrorCode(code), false, code);
  assert.equal(notADirectory('m', '/srv/pacha/bar').code, 'EMASTERNOTDIR');
  assert.equal(hostsPathMissing('m', '/srv/pacha').code, 'ENOHOSTSPATH');
});

test('every code has an exit status of 1, 2 or 3 and a one-line meaning', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^E[A-Z0-9]+$/, code);
    assert.ok([1, 2, 3].includes(spec.exit), code);
    assert.ok(spec.meaning.length > 10 && !spec.meaning.includes('\n'), code);
    assert.equal(exitCodeOf(code as keyof typeof ERROR_CODES), spec.exit);
  }
});
