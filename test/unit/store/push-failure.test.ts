// classifyPushFailure (pure): a connection that died under a push is told apart from a master
// that refuses, rejects or cannot be reached, so the push is tried again at once on a new one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyPushFailure, worthRetryingAtOnce } from '../../../src/store/push.js';

test('a dead shared connection is "dropped"; refusals, rejections and unreachable masters keep their kind', () => {
  assert.equal(classifyPushFailure('error: error in sideband demultiplexer\n').kind, 'dropped');
  assert.equal(classifyPushFailure('Read from remote host 127.0.0.1: Connection reset by peer\nfatal: the remote end hung up unexpectedly\n').kind, 'dropped');
  // receive-pack missing on the master is not a dropped connection (it would fail again).
  assert.equal(classifyPushFailure('bash: line 1: git-receive-pack: command not found\nfatal: the remote end hung up unexpectedly\n').kind, 'other');
  assert.equal(classifyPushFailure('mux_client_request_session: read from master failed: Broken pipe\nfatal: Could not read from remote repository.').kind, 'dropped');
  assert.equal(classifyPushFailure('pacha serve: refused: this key is enrolled for web1\nfatal: the remote end hung up unexpectedly').kind, 'refused');
  assert.equal(classifyPushFailure('ssh: connect to host 127.0.0.1 port 22: Connection refused\nfatal: the remote end hung up unexpectedly').kind, 'unreachable');
  assert.equal(classifyPushFailure(' ! [remote rejected] main -> main (pre-receive hook declined)\nerror: failed to push some refs').kind, 'rejected');
  assert.equal(classifyPushFailure('fatal: repository not found').kind, 'other');
  // Tried again at once: a dead connection, or git's bare "hung up" (all a dying session says).
  assert.equal(worthRetryingAtOnce('error: error in sideband demultiplexer\n'), true);
  assert.equal(worthRetryingAtOnce('fatal: the remote end hung up unexpectedly\n'), true);
  assert.equal(worthRetryingAtOnce('ssh: connect to host 127.0.0.1 port 22: Connection refused\nfatal: the remote end hung up unexpectedly'), false);
  assert.equal(worthRetryingAtOnce('pacha serve: refused: this key is enrolled for web1\nfatal: the remote end hung up unexpectedly'), false);
  assert.equal(worthRetryingAtOnce(' ! [rejected] main -> main (non-fast-forward)'), false);
});
