import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeName, encodeName, fsPath, isCanonicalName, joinNul, splitNul } from '../../../src/fs/names.js';

describe('names: bytes ↔ strings, lossless', () => {
  it('valid UTF-8 is itself; every other byte is one lone surrogate U+DC80+byte', () => {
    assert.equal(decodeName(Buffer.from('ü.conf')), 'ü.conf');
    assert.equal(decodeName(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'caf\udce9');
    assert.equal(decodeName(Buffer.from([0xed, 0xa0, 0x80])), '\udced\udca0\udc80'); // an encoded surrogate is not UTF-8
    assert.equal(decodeName(Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0xff])), '😀\udcff');
  });

  it('every byte string comes back exactly, through JSON too', () => {
    const samples = [
      Buffer.from('plain'),
      Buffer.from([0xff, 0xfe, 0x00 + 0x41]),
      Buffer.from([0xc3]), // truncated sequence
      Buffer.from([0xe2, 0x82]), // truncated 3-byte
      Buffer.from([0xc0, 0xaf]), // overlong '/'
      Buffer.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
      Buffer.from('tab\there\nnew\\line'),
    ];
    for (let i = 0; i < 200; i++) samples.push(Buffer.from(Array.from({ length: 1 + (i % 9) }, (_, k) => (i * 37 + k * 101) % 255 + 1)));
    for (const bytes of samples) {
      const name = decodeName(bytes);
      assert.ok(encodeName(name).equals(bytes), `${bytes.toString('hex')} → ${JSON.stringify(name)}`);
      assert.ok(encodeName(JSON.parse(JSON.stringify(name)) as string).equals(bytes));
      assert.ok(isCanonicalName(name));
    }
  });

  it('refuses strings that are no byte string: lone high surrogates, escapes spelling valid UTF-8', () => {
    assert.equal(isCanonicalName('a\ud800'), false);
    assert.equal(isCanonicalName('\udcc3\udca9'), false); // the bytes of 'é'
    assert.throws(() => encodeName('\udcc3\udca9'), RangeError);
  });

  it('fsPath hands node:fs a string when it can, bytes when it must; -z lists round-trip', () => {
    assert.equal(fsPath('/etc/ü'), '/etc/ü');
    assert.ok(Buffer.isBuffer(fsPath('/etc/\udcff')));
    const names = ['a', 'caf\udce9', 'b\\c', 'new\nline'];
    assert.deepEqual(splitNul(joinNul(names)), names);
  });
});
