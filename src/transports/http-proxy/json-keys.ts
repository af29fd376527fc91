/**
 * True when some object in `json` (text that `JSON.parse` accepted) names a key twice, escapes
 * decoded (`"a"` and `"\u0061"` are the same key). RFC 8259 §4 leaves such objects to each parser:
 * JavaScript keeps the last value, other parsers the first, so the proxy could screen one reading
 * (`iysfilter: "0"`, informational) while the provider acts on the other (review finding): such
 * bodies are refused instead.
 */
export function hasDuplicateKeys(json: string): boolean {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < json.length; j++) {
        const d = json.charCodeAt(j);
        if (d === 0x5c /* \ */) { escaped = true; j++; continue; }
        if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const raw = json.slice(i, j + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.has(key)) return true;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) { stack.push(new Set()); expectKey = true; }
    else if (c === 0x5b /* [ */) { stack.push(null); expectKey = false; }
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) { stack.pop(); expectKey = false; }
    else if (c === 0x2c /* , */) { expectKey = stack[stack.length - 1] instanceof Set; }
  }
  return false;
}
