/**
 * Showing untrusted text (user input, repository file names, server
 * messages) on one terminal line: control characters become visible escapes,
 * so a name holding a newline or an escape sequence cannot forge output.
 */
export function printable(s: string): string {
  // C0, DEL and C1 controls, plus the Unicode line/paragraph separators.
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

/** `'text'`, made printable: how messages name a repo, file or ref. */
export function quote(s: string): string {
  return `'${printable(s)}'`;
}
