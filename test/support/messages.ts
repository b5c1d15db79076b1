/**
 * What makes a message a person can read: one line, no doubled punctuation ("integration.;
 * store one"), no schema path ("params.id"), no raw validator wording; with `sentence`, also
 * one sentence that starts with a letter and ends with a full stop. Returns what is wrong.
 */
export function messageProblems(text: string, { sentence = false } = {}): string[] {
  const problems: string[] = [];
  // An ellipsis and abbreviations are not doubled punctuation or sentence ends.
  const plain = text.replaceAll('...', '…').replace(/\b(e\.g|i\.e|etc)\./g, '$1');
  if (text.includes('\n')) problems.push('spans several lines');
  const doubled = /[.;:,]\s*[.;:,]/.exec(plain);
  if (doubled) problems.push(`doubled punctuation "${doubled[0]}"`);
  if (/\s[.;:,](\s|$)/.test(plain)) problems.push('a space before punctuation');
  const path = /\b(body|params|querystring|headers)(\.[A-Za-z_]|\[)/.exec(text);
  if (path) problems.push(`a schema path "${path[0]}"`);
  if (/must match pattern "|must be (object|array|string|integer)\b|Invalid fields:/.test(text)) {
    problems.push("the validator's own wording");
  }
  if (sentence) {
    if (!/^[A-Za-z]/.test(text)) problems.push('does not start with a letter');
    if (!/[.]$/.test(text)) problems.push('does not end with a full stop');
    const inner = /[.!?] [A-Z]/.exec(plain.slice(0, -1));
    if (inner) problems.push(`more than one sentence ("${inner[0]}")`);
  }
  return problems;
}
