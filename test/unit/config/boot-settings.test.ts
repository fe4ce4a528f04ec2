import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BOOT_SETTINGS_FILE, saveBootSettings } from '../../../src/config/boot-settings.js';
import { loadSettings } from '../../../src/config/load.js';
import { resolveSettings } from '../../../src/config/settings.js';
import { tempDir } from '../../helpers/tmp.js';

test('what boot learned from user data and SSM reaches later commands; secrets do not', async () => {
  const state = path.join(tempDir(), 'state');
  const booted = resolveSettings([
    { source: 'user data', entries: [
      { key: 'pacha.host', raw: 'master.example.com', origin: 'user-data:/var/lib/cloud/instance/user-data.txt' },
      { key: 'pacha.ssh.private_key', raw: 'PRIVATE-KEY-MATERIAL', origin: 'user-data:/var/lib/cloud/instance/user-data.txt' },
    ] },
    { source: 'ssm', entries: [{ key: 'pacha.ssh.user', raw: 'bar_user', origin: 'ssm:/pacha/prod/pacha.ssh.user' }] },
    { source: 'env', entries: [{ key: 'pacha.log.level', raw: 'debug', origin: 'env:PACHA_LOG_LEVEL' }] },
  ]);
  await saveBootSettings(state, booted);
  const file = path.join(state, BOOT_SETTINGS_FILE);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(state).mode & 0o777, 0o700);
  assert.doesNotMatch(readFileSync(file, 'utf8'), /PRIVATE-KEY-MATERIAL/);

  const later = await loadSettings({ configPath: path.join(state, 'missing.conf'), env: { PACHA_STATE_PATH: state } });
  assert.equal(later.get('pacha.host'), 'master.example.com');
  assert.equal(later.origin('pacha.ssh.user'), 'ssm:/pacha/prod/pacha.ssh.user (saved by pacha boot)');
  assert.equal(later.get('pacha.log.level'), 'info', 'an environment value of the boot is not frozen');
  assert.equal(later.get('pacha.ssh.private_key'), undefined);

  const override = await loadSettings({ configPath: path.join(state, 'missing.conf'), env: { PACHA_STATE_PATH: state, PACHA_SSH_USER: 'alice' } });
  assert.equal(override.get('pacha.ssh.user'), 'alice', 'the environment still wins');
});
