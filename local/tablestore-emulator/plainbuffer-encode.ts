import { C, crc, type PrimaryKeyColumn, type Value } from './plainbuffer.js';

/** PlainBuffer encoding of the rows the emulator answers with (GetRow, GetRange, BatchGetRow). */

class Writer {
  private chunks: Buffer[] = [];
  byte(b: number): void {
    this.chunks.push(Buffer.from([b & 0xff]));
  }
  int32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.chunks.push(b);
  }
  raw(b: Buffer): void {
    this.chunks.push(b);
  }
  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function variantPayload(value: Value): { type: number; payload: Buffer; crcPayload: (c: number) => number } {
  switch (value.type) {
    case 'integer': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(value.value);
      return { type: C.VT_INTEGER, payload: b, crcPayload: (c) => crc.crcString(c, b) };
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(value.value);
      return { type: C.VT_DOUBLE, payload: b, crcPayload: (c) => crc.crcString(c, b) };
    }
    case 'boolean':
      return {
        type: C.VT_BOOLEAN,
        payload: Buffer.from([value.value ? 1 : 0]),
        crcPayload: (c) => crc.crcInt8(c, value.value ? 1 : 0),
      };
    case 'string':
    case 'binary': {
      const data = value.type === 'string' ? Buffer.from(value.value, 'utf8') : value.value;
      const len = Buffer.alloc(4);
      len.writeInt32LE(data.length);
      return {
        type: value.type === 'string' ? C.VT_STRING : C.VT_BLOB,
        payload: Buffer.concat([len, data]),
        crcPayload: (c) => crc.crcString(crc.crcInt32(c, data.length), data),
      };
    }
    case 'inf_min':
      return { type: C.VT_INF_MIN, payload: Buffer.alloc(0), crcPayload: (c) => c };
    case 'inf_max':
      return { type: C.VT_INF_MAX, payload: Buffer.alloc(0), crcPayload: (c) => c };
    case 'auto_increment':
      return { type: C.VT_AUTO_INCREMENT, payload: Buffer.alloc(0), crcPayload: (c) => c };
    case 'null':
      return { type: C.VT_NULL, payload: Buffer.alloc(0), crcPayload: (c) => c };
  }
}

function writeCell(w: Writer, name: string, value: Value, timestamp?: bigint): number {
  const nameRaw = Buffer.from(name, 'utf8');
  w.byte(C.TAG_CELL);
  w.byte(C.TAG_CELL_NAME);
  w.int32(nameRaw.length);
  w.raw(nameRaw);
  let c = crc.crcString(0, nameRaw);
  const v = variantPayload(value);
  w.byte(C.TAG_CELL_VALUE);
  w.int32(1 + v.payload.length);
  w.byte(v.type);
  w.raw(v.payload);
  c = v.crcPayload(crc.crcInt8(c, v.type));
  if (timestamp !== undefined) {
    const ts = Buffer.alloc(8);
    ts.writeBigInt64LE(timestamp);
    w.byte(C.TAG_CELL_TIMESTAMP);
    w.raw(ts);
    c = crc.crcString(c, ts);
  }
  w.byte(C.TAG_CELL_CHECKSUM);
  w.byte(c);
  return c;
}

export interface RowToEncode {
  primaryKey: PrimaryKeyColumn[];
  attributes: { name: string; value: Value; timestamp?: bigint }[];
}

function writeRowBody(w: Writer, row: RowToEncode): void {
  let rowCrc = 0;
  w.byte(C.TAG_ROW_PK);
  for (const pk of row.primaryKey) rowCrc = crc.crcInt8(rowCrc, writeCell(w, pk.name, pk.value));
  if (row.attributes.length > 0) {
    w.byte(C.TAG_ROW_DATA);
    for (const a of row.attributes) rowCrc = crc.crcInt8(rowCrc, writeCell(w, a.name, a.value, a.timestamp));
  }
  rowCrc = crc.crcInt8(rowCrc, 0);
  w.byte(C.TAG_ROW_CHECKSUM);
  w.byte(rowCrc);
}

/** One header, then the rows back to back: how GetRange returns rows and single-row calls return one. */
export function encodeRows(rows: RowToEncode[]): Buffer {
  if (rows.length === 0) return Buffer.alloc(0);
  const w = new Writer();
  w.int32(C.HEADER);
  for (const row of rows) writeRowBody(w, row);
  return w.finish();
}
