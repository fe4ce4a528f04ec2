import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OperationError } from '../../../src/errors.js';
import { storageFault } from '../../../src/fs/storage-fault.js';
import { GitError } from '../../../src/store/git.js';

test('storage faults by errno code, by git\'s words, and through causes; anything else is not one', () => {
  assert.equal(storageFault(Object.assign(new Error('write'), { code: 'ENOSPC' })), 'ENOSPC');
  assert.equal(storageFault(Object.assign(new Error('open'), { code: 'EROFS' })), 'EROFS');
  assert.equal(storageFault(new GitError(['add'], 128, 'error: unable to write new index file\nfatal: write error: No space left on device')), 'ENOSPC');
  assert.equal(storageFault(new GitError(['commit-tree'], 128, 'fatal: Input/output error')), 'EIO');
  assert.equal(storageFault(new OperationError('ECAPTURE', 'wrapped', { cause: Object.assign(new Error('x'), { code: 'EDQUOT' }) })), 'EDQUOT');
  assert.equal(storageFault(Object.assign(new Error('gone'), { code: 'ENOENT' })), undefined);
  assert.equal(storageFault(new Error('index.lock exists')), undefined);
  assert.equal(storageFault(undefined), undefined);
});
