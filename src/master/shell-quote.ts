// POSIX shell quoting: the one function every command line built for a shell goes through
// (remote commands run by sshd through the user's shell, GIT_SSH_COMMAND run by git via sh).

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_\-.,:/@%+=]+$/;

/** One shell word that the shell turns back into exactly `value`. */
export function shellQuote(value: string): string {
  if (SAFE_WORD.test(value)) return value;
  // Inside single quotes nothing is special except the closing quote itself.
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** shellQuote for a name's raw bytes (not always UTF-8): always single quotes, each ' as '\''. */
export function singleQuotedBytes(bytes: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from("'")];
  let start = 0;
  for (let i = bytes.indexOf(0x27); i !== -1; i = bytes.indexOf(0x27, start)) {
    parts.push(bytes.subarray(start, i), Buffer.from("'\\''"));
    start = i + 1;
  }
  parts.push(bytes.subarray(start), Buffer.from("'"));
  return Buffer.concat(parts);
}

/** Each byte as a printf format writes it: printable ASCII itself; \, %, ' and every other byte a three-digit octal escape. */
const PRINTF_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b >= 0x20 && b < 0x7f && b !== 0x5c && b !== 0x25 && b !== 0x27 ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`,
);

/**
 * One single-quoted word that, as printf's format, writes exactly `bytes` (POSIX printf writes
 * \ddd as the byte of that octal value, NUL included). One line: a line break is escaped too.
 * Shell builtins take it at any length; an external printf is bound by the kernel's 128 KiB per
 * argument (four characters a byte at most).
 */
export function printfFormat(bytes: Buffer): string {
  const out: string[] = [];
  for (const byte of bytes) out.push(PRINTF_BYTE[byte]!);
  // A format starting with '-' would be read as an option (dash: "Illegal option").
  if (bytes[0] === 0x2d) out[0] = '\\055';
  return `'${out.join('')}'`;
}

/** A command line: every argument quoted, joined by spaces. */
export function shellCommand(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}

/**
 * A word quoted as git quotes the path it sends to git-upload-pack over SSH (sq_quote: always
 * in single quotes, `'` and `!` escaped outside them): the form the gate accepts.
 */
export function gitQuote(value: string): string {
  return `'${value.replace(/['!]/g, (c) => `'\\${c}'`)}'`;
}
