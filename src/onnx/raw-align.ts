/**
 * Aligning a tensor's `raw_data` inside the file buffer it was decoded from, instead of copying it.
 *
 * protobuf hands `raw_data` over as a view into the file buffer at whatever offset the field had,
 * so three float tensors in four cannot be viewed as a Float32Array and were copied: on a 115 MB
 * model (swin_t) that is 86 MB more memory, and on this VM the page faults of a fresh allocation
 * cost more CPU than the copy itself. The bytes just before the values are the field's own header
 * (tag 0x4A, then the byte length as a varint), already decoded and read by nothing else, so the
 * values can move down by up to that many bytes in place and land on an aligned offset.
 *
 * Only for a buffer the caller owns (loadOnnx read it from disk): a buffer handed to decodeOnnx
 * belongs to its caller and is never written.
 */

/** Field 9 (raw_data) of TensorProto, wire type 2 (length-delimited). */
const RAW_DATA_TAG = (9 << 3) | 2;

/** Whether buf[start..end) is exactly the varint encoding of n (continuation bits on all but the last byte). */
function isVarintOf(buf: Uint8Array, start: number, end: number, n: number): boolean {
  let v = 0, mul = 1;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    const last = i === end - 1;
    if (last !== ((b & 0x80) === 0)) return false;
    v += (b & 0x7f) * mul;
    mul *= 128;
  }
  return v === n;
}

/**
 * `raw` moved down in its own buffer to a multiple of `elementSize`, when the field header before
 * it is long enough to take the shift and really is this field's header; else `raw` unchanged
 * (Tensor.data then copies it once, as before).
 */
export function alignRawInPlace(raw: Uint8Array, elementSize: number): Uint8Array {
  const off = raw.byteOffset;
  const shift = elementSize > 1 ? off % elementSize : 0;
  if (!shift || raw.byteLength === 0) return raw;
  const all = new Uint8Array(raw.buffer);
  // the header: tag, then the varint of the length, ending right at `off`
  let varintBytes = 1;
  for (let n = raw.byteLength; n >= 128; n = Math.floor(n / 128)) varintBytes++;
  const headerStart = off - varintBytes - 1;
  if (shift > varintBytes + 1 || headerStart < 0) return raw;
  if (all[headerStart] !== RAW_DATA_TAG || !isVarintOf(all, headerStart + 1, off, raw.byteLength)) return raw;
  all.copyWithin(off - shift, off, off + raw.byteLength); // memmove: no new memory
  return new Uint8Array(raw.buffer, off - shift, raw.byteLength);
}
