// Attributes that would make git change content on the way in or out (text/eol
// conversion, $Id$ expansion, clean/smudge filters, re-encoding), unset for every path; and
// pacha's metadata always diffed as text (`pacha log` reads its patches), whatever a
// `*.json binary` says. Written to info/attributes, which outranks every .gitattributes
// inside a tracked path, of every repository pacha commits in, checks out from, or pushes
// to (the master's working copy too: an attribute there would make its checkout differ
// from the index, and updateInstead would then refuse every later push).
export const NEUTRAL_ATTRIBUTES = '* -text -eol -crlf -ident -filter -working-tree-encoding\n/.pacha/metadata.json diff\n/.pacha/metadata/*.json diff\n';
