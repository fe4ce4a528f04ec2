import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  checkHostKey,
  fingerprint,
  knownHostsName,
  matchHostPatterns,
  parseKnownHosts,
  parsePublicKey,
  type HostKeySource,
} from '../../../src/master/known-hosts.js';
import { keygen } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tmp.js';

/** Real keys made by ssh-keygen: [type, base64]. */
function makeKeys(count: number, type = 'ed25519'): { keyType: string; keyBase64: string; file: string }[] {
  const dir = tempDir();
  return Array.from({ length: count }, (_, i) => {
    const file = path.join(dir, `key${i}`);
    keygen(file, type);
    const [keyType, keyBase64] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ');
    return { keyType: keyType!, keyBase64: keyBase64!, file };
  });
}

const [a, b, c] = makeKeys(3);
const [rsa] = makeKeys(1, 'rsa');
const line = (hosts: string, k: { keyType: string; keyBase64: string }): string => `${hosts} ${k.keyType} ${k.keyBase64}`;
const text = (...lines: string[]): HostKeySource[] => [{ kind: 'known_hosts', origin: '/kh', text: lines.join('\n') }];
const query = (host: string, port: number, k: { keyType: string; keyBase64: string }) => ({ host, port, ...k });

test('knownHostsName: bare host on port 22, [host]:port otherwise, IPv6 unbracketed first', () => {
  assert.equal(knownHostsName('master', 22), 'master');
  assert.equal(knownHostsName('master', 2222), '[master]:2222');
  assert.equal(knownHostsName('::1', 2222), '[::1]:2222');
  assert.equal(knownHostsName('[::1]', 22), '::1');
});

test('parseKnownHosts skips comments, blank lines, unknown markers and short lines', () => {
  const lines = parseKnownHosts(['# comment', '', '   ', line('h', a!), '@weird h ssh-ed25519 AAAA', 'h ssh-ed25519', `@revoked ${line('h', b!)} comment`].join('\n'));
  assert.deepEqual(
    lines.map((l) => [l.marker, l.patterns, l.keyBase64, l.line]),
    [
      [undefined, 'h', a!.keyBase64, 4],
      ['revoked', 'h', b!.keyBase64, 7],
    ],
  );
});

test('plain host, comma list and [host]:port entries match', () => {
  const sources = text(line('other,master,10.0.0.1', a!), line('[master]:2222', b!));
  assert.equal(checkHostKey(query('master', 22, a!), sources).status, 'match');
  assert.equal(checkHostKey(query('10.0.0.1', 22, a!), sources).status, 'match');
  assert.equal(checkHostKey(query('MASTER', 22, a!), sources).status, 'match');
  assert.equal(checkHostKey(query('master', 2222, b!), sources).status, 'match');
  // port 22 is the bare name only: [master]:22 is not how OpenSSH writes it
  assert.equal(checkHostKey(query('master', 2222, a!), sources).status, 'mismatch');
  assert.equal(checkHostKey(query('nowhere', 22, a!), sources).status, 'unknown');
});

test('a different key for a known host is a mismatch naming the expected keys and where they are', () => {
  const verdict = checkHostKey(query('master', 22, c!), text('# x', line('master', a!), line('master', rsa!)));
  assert.equal(verdict.status, 'mismatch');
  assert.ok(verdict.status === 'mismatch');
  assert.deepEqual(
    verdict.expected.map((k) => [k.keyType, k.keyBase64, k.origin]),
    [
      ['ssh-ed25519', a!.keyBase64, '/kh:2'],
      ['ssh-rsa', rsa!.keyBase64, '/kh:3'],
    ],
  );
});

test('@revoked refuses a key even when another line (or another source) allows it', () => {
  const revoked = `@revoked ${line('*', a!)}`;
  assert.deepEqual(checkHostKey(query('master', 22, a!), [...text(line('master', a!)), ...text(revoked)]), { status: 'revoked', origin: '/kh:1' });
  // a revoked line alone does not make other keys known
  assert.equal(checkHostKey(query('master', 22, b!), text(revoked)).status, 'unknown');
  assert.equal(checkHostKey(query('master', 22, b!), text(revoked, line('master', b!))).status, 'match');
});

test('@cert-authority lines are ignored', () => {
  assert.equal(checkHostKey(query('master', 22, a!), text(`@cert-authority ${line('*', a!)}`)).status, 'unknown');
});

test('wildcards and negation', () => {
  assert.equal(matchHostPatterns('db1.example.com', '*.example.com'), true);
  assert.equal(matchHostPatterns('db1.example.org', '*.example.com'), false);
  assert.equal(matchHostPatterns('db1', 'db?'), true);
  assert.equal(matchHostPatterns('db12', 'db?'), false);
  assert.equal(matchHostPatterns('[db1]:2222', '[db?]:2222'), true);
  assert.equal(matchHostPatterns('db1.example.com', '*.example.com,!db1.example.com'), false);
  assert.equal(matchHostPatterns('db2.example.com', '*.example.com,!db1.example.com'), true);
  assert.equal(matchHostPatterns('a.b', 'a?b'), true);
  assert.equal(matchHostPatterns('axb', 'a.b'), false);
});

test('hashed entries written by a real `ssh-keygen -H` match their host and port, and nothing else', () => {
  const dir = tempDir();
  const file = path.join(dir, 'known_hosts');
  writeFileSync(file, [line('master.example.com', a!), line('[127.0.0.1]:2222', b!), ''].join('\n'));
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
  const hashed = readFileSync(file, 'utf8');
  assert.match(hashed, /^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /m);
  assert.ok(!hashed.includes('master.example.com'));
  const sources: HostKeySource[] = [{ kind: 'known_hosts', origin: file, text: hashed }];
  assert.equal(checkHostKey(query('master.example.com', 22, a!), sources).status, 'match');
  assert.equal(checkHostKey(query('127.0.0.1', 2222, b!), sources).status, 'match');
  assert.equal(checkHostKey(query('127.0.0.1', 2222, a!), sources).status, 'mismatch');
  assert.equal(checkHostKey(query('127.0.0.1', 22, b!), sources).status, 'unknown');
  assert.equal(checkHostKey(query('other.example.com', 22, a!), sources).status, 'unknown');
});

test('a pinned key is trusted for the master whatever its name; any other key is a mismatch', () => {
  const pinned: HostKeySource[] = [{ kind: 'pinned', origin: 'pacha.ssh.host_key', key: `${a!.keyType} ${a!.keyBase64} comment` }];
  assert.deepEqual(checkHostKey(query('anything', 2222, a!), pinned), { status: 'match', origin: 'pacha.ssh.host_key' });
  assert.equal(checkHostKey(query('anything', 2222, b!), pinned).status, 'mismatch');
});

test('parsePublicKey checks the type named inside the blob; fingerprint equals ssh-keygen -l', () => {
  assert.deepEqual(parsePublicKey(`${a!.keyType} ${a!.keyBase64}`), { keyType: a!.keyType, keyBase64: a!.keyBase64 });
  assert.equal(parsePublicKey(`ssh-rsa ${a!.keyBase64}`), undefined);
  assert.equal(parsePublicKey('ssh-ed25519'), undefined);
  assert.equal(parsePublicKey('ssh-ed25519 not*base64'), undefined);
  const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${a!.file}.pub`]).toString().split(' ')[1];
  assert.equal(fingerprint(a!.keyBase64), expected);
});
