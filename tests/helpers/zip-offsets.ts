/** Offsets of each stored file's data, from the zip's local headers (APPNOTE 4.3.7). */
export function zipDataOffsets(zip: Uint8Array): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const offsets = new Map<string, number>();
  let at = 0;
  while (view.getUint32(at, true) === 0x04034b50) {
    const compressed = view.getUint32(at + 18, true);
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    const data = at + 30 + nameLength + extraLength;
    offsets.set(new TextDecoder().decode(zip.subarray(at + 30, at + 30 + nameLength)), data);
    at = data + compressed;
  }
  return offsets;
}
