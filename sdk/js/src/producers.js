// A `producers` custom section, appended to a built component so that
// `outdial plugin inspect` can name the language the plugin was written
// in: the engine's own modules only name the language the engine is
// written in.

/** The unsigned LEB128 encoding of `value`. */
function leb128(value) {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

/** A name as the binary format writes it: its UTF-8 length, then it. */
function name(text) {
  const utf8 = [...Buffer.from(text, "utf8")];
  return [...leb128(utf8.length), ...utf8];
}

/**
 * The custom section `producers` holding `fields`, an object of field name
 * to a list of [name, version] pairs.
 */
export function producersSection(fields) {
  const entries = Object.entries(fields);
  const payload = [...name("producers"), ...leb128(entries.length)];
  for (const [field, values] of entries) {
    payload.push(...name(field), ...leb128(values.length));
    for (const [valueName, version] of values) {
      payload.push(...name(valueName), ...name(version));
    }
  }
  // Custom sections have id 0, then their size.
  return Buffer.from([0, ...leb128(payload.length), ...payload]);
}
