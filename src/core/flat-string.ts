// Strings kept for long, made flat. V8 keeps a string built by `+` or a template as a tree
// of its parts (a cons string: a 32-byte node per join, beside every part) until something
// needs it in one piece, and a long-lived cache holding such strings holds the trees: a
// 200-character JSON answer built from 15 parts took ~860 bytes of heap as a tree and ~210
// flat (bench/RESULTS.md, "text-backed records, flat kept strings"). Running a regular expression over a
// string flattens it in place (the regexp engine needs it in one piece): same string, same
// value, and its parts become garbage.

const NUL = /\u0000/;

/** `s`, made flat in place (its value unchanged), for keeping. */
export function flat(s: string): string {
  NUL.test(s);
  return s;
}
