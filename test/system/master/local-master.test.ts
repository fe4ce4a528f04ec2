import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSettings } from '../../../src/config/settings.js';
import { LocalMaster } from '../../../src/master/local-master.js';
import { openMaster } from '../../../src/master/open.js';
import { tempDir } from '../../helpers/tmp.js';
import { masterBehaviour } from './behaviour.js';

masterBehaviour('local master', async (hostsPath) => new LocalMaster(hostsPath));

test('openMaster: pacha.host = local (the default) is the local directory pacha.hosts.path', async () => {
  const hostsPath = tempDir();
  const settings = resolveSettings([{ source: 'test', entries: [{ key: 'pacha.hosts.path', raw: hostsPath, origin: 'test' }] }]);
  const master = await openMaster(settings, tempDir());
  assert.ok(master instanceof LocalMaster);
  assert.equal(master.label, `local:${hostsPath}`);
  assert.equal(master.repositoryUrl('bar', 'foo'), `${hostsPath}/bar/foo`);
  assert.deepEqual(Object.keys(master.gitEnv()).sort(), ['HOME', 'PATH']);
});
