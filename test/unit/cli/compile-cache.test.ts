import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileCacheDir } from '../../../src/cli/compile-cache.js';

test("root's compile cache is under /var/cache/pacha, never a shared temp dir", () => {
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/tmp' }, 0, '/root'), '/var/cache/pacha/node-compile-cache');
});

test("another user's is in their own cache dir: XDG_CACHE_HOME when absolute, else ~/.cache", () => {
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/home/bar/.xdg' }, 1000, '/home/bar'), '/home/bar/.xdg/pacha/node-compile-cache');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: 'relative' }, 1000, '/home/bar'), '/home/bar/.cache/pacha/node-compile-cache');
  assert.equal(compileCacheDir({}, 1000, '/home/bar'), '/home/bar/.cache/pacha/node-compile-cache');
});
