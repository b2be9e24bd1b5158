import { createRequire } from 'node:module';

/**
 * Tablestore's PlainBuffer row format, both directions (encoding in plainbuffer-encode.ts). The constants and the CRC-8 come from the
 * official SDK so the emulator speaks exactly what the SDK writes and reads. Decoding is our own:
 * the SDK's reader cannot parse the cell-type tags that UpdateRow requests carry.
 */

interface SdkPlainBuffer {
  plainBufferConsts: Record<string, number>;
  plainBufferCrc8: {
    crcInt8(crc: number, byte: number): number;
    crcInt32(crc: number, value: number): number;
    crcString(crc: number, bytes: Buffer | string): number;
  };
}

const sdk = createRequire(import.meta.url)('tablestore') as SdkPlainBuffer;
export const C = sdk.plainBufferConsts as {
  HEADER: number;
  TAG_ROW_PK: number;
  TAG_ROW_DATA: number;
  TAG_CELL: number;
  TAG_CELL_NAME: number;
  TAG_CELL_VALUE: number;
  TAG_CELL_TYPE: number;
  TAG_CELL_TIMESTAMP: number;
  TAG_DELETE_ROW_MARKER: number;
  TAG_ROW_CHECKSUM: number;
  TAG_CELL_CHECKSUM: number;
  DELETE_ALL_VERSION: number;
  DELETE_ONE_VERSION: number;
  INCREMENT: number;
  VT_INTEGER: number;
  VT_DOUBLE: number;
  VT_BOOLEAN: number;
  VT_STRING: number;
  VT_NULL: number;
  VT_BLOB: number;
  VT_INF_MIN: number;
  VT_INF_MAX: number;
  VT_AUTO_INCREMENT: number;
};
export const crc = sdk.plainBufferCrc8;

export type Value =
  | { type: 'integer'; value: bigint }
  | { type: 'string'; value: string }
  | { type: 'binary'; value: Buffer }
  | { type: 'boolean'; value: boolean }
  | { type: 'double'; value: number }
  | { type: 'inf_min' }
  | { type: 'inf_max' }
  | { type: 'auto_increment' }
  | { type: 'null' };

export type CellOp = 'put' | 'delete_one' | 'delete_all' | 'increment';

export interface Cell {
  name: string;
  value?: Value;
  op: CellOp;
  timestamp?: bigint;
}

export interface PrimaryKeyColumn {
  name: string;
  value: Value;
}

export interface DecodedRow {
  primaryKey: PrimaryKeyColumn[];
  cells: Cell[];
  deleteMarker: boolean;
}

export class PlainBufferError extends Error {}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }
  peek(): number {
    if (this.atEnd()) return -1;
    return this.buf[this.pos] as number;
  }
  byte(): number {
    if (this.atEnd()) throw new PlainBufferError('unexpected end of PlainBuffer');
    const b = this.buf[this.pos] as number;
    this.pos += 1;
    return b;
  }
  int32(): number {
    if (this.pos + 4 > this.buf.length) throw new PlainBufferError('unexpected end of PlainBuffer');
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length)
      throw new PlainBufferError('PlainBuffer length out of range');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  expect(tag: number, what: string): void {
    const t = this.byte();
    if (t !== tag) throw new PlainBufferError(`expected ${what} tag, got 0x${t.toString(16)}`);
  }
}

function readVariant(r: Reader, checksum: number): { value: Value; checksum: number } {
  const type = r.byte();
  let c = crc.crcInt8(checksum, type);
  switch (type) {
    case C.VT_INTEGER: {
      const raw = r.bytes(8);
      c = crc.crcString(c, raw);
      return { value: { type: 'integer', value: raw.readBigInt64LE(0) }, checksum: c };
    }
    case C.VT_DOUBLE: {
      const raw = r.bytes(8);
      c = crc.crcString(c, raw);
      return { value: { type: 'double', value: raw.readDoubleLE(0) }, checksum: c };
    }
    case C.VT_BOOLEAN: {
      const b = r.byte();
      c = crc.crcInt8(c, b === 0 ? 0 : 1);
      return { value: { type: 'boolean', value: b !== 0 }, checksum: c };
    }
    case C.VT_STRING: {
      const len = r.int32();
      const raw = r.bytes(len);
      c = crc.crcInt32(c, len);
      c = crc.crcString(c, raw);
      return { value: { type: 'string', value: raw.toString('utf8') }, checksum: c };
    }
    case C.VT_BLOB: {
      const len = r.int32();
      const raw = Buffer.from(r.bytes(len));
      c = crc.crcInt32(c, len);
      c = crc.crcString(c, raw);
      return { value: { type: 'binary', value: raw }, checksum: c };
    }
    case C.VT_INF_MIN:
      return { value: { type: 'inf_min' }, checksum: c };
    case C.VT_INF_MAX:
      return { value: { type: 'inf_max' }, checksum: c };
    case C.VT_AUTO_INCREMENT:
      return { value: { type: 'auto_increment' }, checksum: c };
    case C.VT_NULL:
      return { value: { type: 'null' }, checksum: c };
    default:
      throw new PlainBufferError(`unknown value type 0x${type.toString(16)}`);
  }
}

/** A bare variant (type byte + payload), as in a column condition's value. */
export function decodeVariant(buf: Buffer): Value {
  return readVariant(new Reader(buf), 0).value;
}

function readCell(r: Reader): { cell: Cell; checksum: number } {
  r.expect(C.TAG_CELL_NAME, 'cell name');
  const nameLen = r.int32();
  const nameRaw = r.bytes(nameLen);
  let c = crc.crcString(0, nameRaw);
  const cell: Cell = { name: nameRaw.toString('utf8'), op: 'put' };
  if (r.peek() === C.TAG_CELL_VALUE) {
    r.byte();
    r.int32(); // total length of type + payload; the payload carries its own lengths
    const v = readVariant(r, c);
    cell.value = v.value;
    c = v.checksum;
  }
  let opByte: number | undefined;
  if (r.peek() === C.TAG_CELL_TYPE) {
    r.byte();
    opByte = r.byte();
    cell.op =
      opByte === C.DELETE_ALL_VERSION
        ? 'delete_all'
        : opByte === C.DELETE_ONE_VERSION
          ? 'delete_one'
          : opByte === C.INCREMENT
            ? 'increment'
            : (() => {
                throw new PlainBufferError(`unknown cell type 0x${opByte.toString(16)}`);
              })();
  }
  if (r.peek() === C.TAG_CELL_TIMESTAMP) {
    r.byte();
    const raw = r.bytes(8);
    cell.timestamp = raw.readBigInt64LE(0);
    c = crc.crcString(c, raw);
  }
  // The SDK folds the cell type into the checksum after the timestamp, whatever the byte order.
  if (opByte !== undefined) c = crc.crcInt8(c, opByte);
  r.expect(C.TAG_CELL_CHECKSUM, 'cell checksum');
  const sent = r.byte();
  if (sent !== c) throw new PlainBufferError(`cell checksum mismatch for ${cell.name}`);
  return { cell, checksum: c };
}

function readRowBody(r: Reader): DecodedRow {
  const row: DecodedRow = { primaryKey: [], cells: [], deleteMarker: false };
  let rowCrc = 0;
  r.expect(C.TAG_ROW_PK, 'row primary key');
  while (r.peek() === C.TAG_CELL) {
    r.byte();
    const { cell, checksum } = readCell(r);
    if (cell.value === undefined) throw new PlainBufferError(`primary key ${cell.name} has no value`);
    row.primaryKey.push({ name: cell.name, value: cell.value });
    rowCrc = crc.crcInt8(rowCrc, checksum);
  }
  if (r.peek() === C.TAG_ROW_DATA) {
    r.byte();
    while (r.peek() === C.TAG_CELL) {
      r.byte();
      const { cell, checksum } = readCell(r);
      row.cells.push(cell);
      rowCrc = crc.crcInt8(rowCrc, checksum);
    }
  }
  if (r.peek() === C.TAG_DELETE_ROW_MARKER) {
    r.byte();
    row.deleteMarker = true;
  }
  rowCrc = crc.crcInt8(rowCrc, row.deleteMarker ? 1 : 0);
  r.expect(C.TAG_ROW_CHECKSUM, 'row checksum');
  if (r.byte() !== rowCrc) throw new PlainBufferError('row checksum mismatch');
  return row;
}

export function decodeRow(buf: Buffer): DecodedRow {
  const r = new Reader(buf);
  if (r.int32() !== C.HEADER) throw new PlainBufferError('bad PlainBuffer header');
  const row = readRowBody(r);
  // The SDK sizes keys with INF_MIN/INF_MAX one byte too large per bound and leaves the zeros in.
  while (!r.atEnd()) {
    if (r.byte() !== 0) throw new PlainBufferError('trailing bytes after PlainBuffer row');
  }
  return row;
}
