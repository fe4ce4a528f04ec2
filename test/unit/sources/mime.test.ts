import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MimeFormatError, decodeQuotedPrintable, looksLikeMime, parseHeaderValue, parseMime, splitEntity } from '../../../src/sources/mime.js';

describe('MIME reader', () => {
  test('headers: folded lines joined, names lower-cased, the first of a repeated header wins', () => {
    const { headers, body } = splitEntity('Content-Type: multipart/mixed;\r\n\tboundary="b"\r\nX-A: 1\r\nx-a: 2\r\n\r\nbody\r\n');
    assert.equal(headers.get('content-type'), 'multipart/mixed; boundary="b"');
    assert.equal(headers.get('x-a'), '1');
    assert.equal(body, 'body\r\n');
  });

  test('parameters: quoted with escapes, unquoted, case-insensitive names', () => {
    assert.deepEqual(parseHeaderValue('text/plain; Charset=utf-8; filename="a \\"b\\".yaml"'), {
      value: 'text/plain',
      params: { charset: 'utf-8', filename: 'a "b".yaml' },
    });
  });

  test('quoted-printable: bytes, soft breaks, trailing blanks', () => {
    assert.equal(decodeQuotedPrintable('caf=C3=A9 =3D x  \nlong =\nline\n').toString('utf8'), 'café = x\nlong line\n');
  });

  test('a missing close delimiter ends the last part at the end; a look-alike line is not a delimiter', () => {
    const message = 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\n\none\n--zzz not a delimiter\n--zz\nContent-Type: text/x-a\n\ntwo\n';
    const parts = parseMime(Buffer.from(message));
    assert.deepEqual(
      parts.map((p) => [p.contentType, p.body.toString()]),
      [
        ['text/plain', 'one\n--zzz not a delimiter'],
        ['text/x-a', 'two\n'],
      ],
    );
  });

  test('binary bodies survive byte for byte', () => {
    const bytes = Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x0d, 0x0a, 0x80]);
    const message = Buffer.concat([Buffer.from('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/x-gzip\nContent-Transfer-Encoding: binary\n\n'), bytes, Buffer.from('\n--b--\n')]);
    assert.deepEqual(parseMime(message)[0]?.body, bytes);
  });

  test('what is refused: no boundary, no part, bad base64, unknown encoding', () => {
    const wrap = (headers: string, body: string) => Buffer.from(`MIME-Version: 1.0\n${headers}\n\n${body}`);
    assert.throws(() => parseMime(wrap('Content-Type: multipart/mixed', '')), MimeFormatError);
    assert.throws(() => parseMime(wrap('Content-Type: multipart/mixed; boundary=q', 'no parts here\n')), /no part starts/);
    assert.throws(() => parseMime(wrap('Content-Transfer-Encoding: base64', '#!$%')), /not base64/);
    assert.throws(() => parseMime(wrap('Content-Transfer-Encoding: x-uuencode', 'x')), /unknown Content-Transfer-Encoding/);
  });

  test('what counts as MIME: a MIME-Version header, and not a #cloud-config that mentions one', () => {
    assert.equal(looksLikeMime(Buffer.from('Content-Type: text/plain\nMIME-Version: 1.0\n\nx')), true);
    assert.equal(looksLikeMime(Buffer.from('#cloud-config\nwrite_files: [{content: "MIME-Version: 1.0"}]\n')), false);
  });
});
