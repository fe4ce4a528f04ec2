// packer/pacha.pkr.hcl checked by Debian's packer 1.6.6 offline: `packer validate` with
// the required variables, `packer fmt -check`, and both refuse a broken copy.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../helpers/tmp.js';
import { REPO, runCommand, type CommandResult } from '../../helpers/image-command.js';

const PACKER_DIR = path.join(REPO, 'packer');
const TEMPLATE = readFileSync(path.join(PACKER_DIR, 'pacha.pkr.hcl'), 'utf8');

/** The bundle must exist for validate (the file provisioner stats it); its content does not matter here. */
function stubBundle(): string {
  const file = path.join(tempDir(), 'pacha.mjs');
  writeFileSync(file, '// stands in for dist/pacha.mjs\n');
  return file;
}

function requiredVars(): string[] {
  return ['-var', 'aws_region=eu-west-1', '-var', `qemu_base_image_checksum=sha512:${'0'.repeat(128)}`, '-var', `bundle=${stubBundle()}`];
}

function packer(args: string[]): CommandResult {
  // No network: no version checkpoint, and validate must not fetch anything.
  return runCommand('packer', args, { env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
}

/** A copy of packer/ (and the unit it references as ../systemd/) with the template changed. */
function templateCopy(text: string): string {
  const root = tempDir('pacha-packer-');
  cpSync(PACKER_DIR, path.join(root, 'packer'), { recursive: true });
  mkdirSync(path.join(root, 'systemd'));
  cpSync(path.join(REPO, 'systemd', 'pacha.service'), path.join(root, 'systemd', 'pacha.service'));
  writeFileSync(path.join(root, 'packer', 'pacha.pkr.hcl'), text);
  return path.join(root, 'packer');
}

describe('packer/pacha.pkr.hcl', () => {
  it('passes packer validate with the required variables', () => {
    const r = packer(['validate', ...requiredVars(), PACKER_DIR]);
    assert.equal(r.status, 0, r.describe);
  });

  it('passes packer fmt -check', () => {
    const r = packer(['fmt', '-check', PACKER_DIR]);
    assert.equal(r.status, 0, r.describe);
  });

  it('has an amazon-ebs and a qemu source, both built', () => {
    assert.match(TEMPLATE, /^source "amazon-ebs" "debian" \{/m);
    assert.match(TEMPLATE, /^source "qemu" "debian" \{/m);
    assert.match(TEMPLATE, /sources = \["source\.amazon-ebs\.debian", "source\.qemu\.debian"\]/);
  });

  it('installs with install.sh and ends with cleanup.sh', () => {
    const install = TEMPLATE.indexOf('sh /tmp/install.sh');
    const cleanup = TEMPLATE.indexOf('sh /tmp/cleanup.sh');
    assert.ok(install > 0 && cleanup > install, 'install.sh runs, then cleanup.sh');
    assert.equal(TEMPLATE.slice(cleanup).match(/provisioner "/g), null, 'cleanup.sh is the last provisioner');
  });

  it("the qemu build VM's seed is valid cloud-config", () => {
    const r = runCommand('cloud-init', ['schema', '--config-file', path.join(PACKER_DIR, 'http', 'user-data')]);
    assert.equal(r.status, 0, r.describe);
  });

  describe('the checks catch a broken template', () => {
    it('a required variable missing', () => {
      const r = packer(['validate', '-var', `bundle=${stubBundle()}`, '-var', 'aws_region=eu-west-1', PACKER_DIR]);
      assert.notEqual(r.status, 0, r.describe);
      assert.match(r.stdout + r.stderr, /qemu_base_image_checksum/);
    });

    it('an unknown builder setting', () => {
      const text = TEMPLATE.replace('instance_type = var.aws_instance_type', 'instance_typo = var.aws_instance_type');
      assert.notEqual(text, TEMPLATE);
      const r = packer(['validate', ...requiredVars(), templateCopy(text)]);
      assert.notEqual(r.status, 0, r.describe);
      assert.match(r.stdout + r.stderr, /instance_typo/);
    });

    it('an upload whose file does not exist', () => {
      const text = TEMPLATE.replace('"${path.root}/cleanup.sh"', '"${path.root}/no-such-cleanup.sh"');
      assert.notEqual(text, TEMPLATE);
      const r = packer(['validate', ...requiredVars(), templateCopy(text)]);
      assert.notEqual(r.status, 0, r.describe);
      assert.match(r.stdout + r.stderr, /no-such-cleanup\.sh/);
    });

    it('a formatting slip', () => {
      const text = TEMPLATE.replace('  region        = var.aws_region', '  region = var.aws_region');
      assert.notEqual(text, TEMPLATE);
      const r = packer(['fmt', '-check', templateCopy(text)]);
      assert.notEqual(r.status, 0, r.describe);
    });
  });
});
