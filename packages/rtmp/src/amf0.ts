import { RtmpProtocolError } from './errors.js';

/**
 * AMF0 (Action Message Format, version 0): the encoding of RTMP commands and
 * stream metadata. Objects decode to null-prototype records so a key such as
 * `__proto__` sent by a peer stays an ordinary key.
 */
export type AmfValue =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | AmfObject
  | AmfEcmaArray
  | AmfTypedObject
  | AmfXmlDocument
  | AmfValue[];

export interface AmfObject {
  [key: string]: AmfValue;
}

/** An associative ("ECMA") array: what ffmpeg sends as onMetaData. */
export class AmfEcmaArray {
  constructor(readonly properties: AmfObject) {}
}

/** An object carrying a registered class name. */
export class AmfTypedObject {
  constructor(
    readonly className: string,
    readonly properties: AmfObject,
  ) {}
}

export class AmfXmlDocument {
  constructor(readonly xml: string) {}
}

export const AmfMarker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  RecordSet: 0x0e,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

export interface AmfDecodeLimits {
  /** Nesting of objects and arrays; a peer's deep nesting would otherwise exhaust the stack. */
  maxDepth: number;
  /** Values (including object properties) in one decode call; bounds CPU per message. */
  maxElements: number;
}

export const defaultAmfDecodeLimits: AmfDecodeLimits = { maxDepth: 16, maxElements: 10_000 };

export function amfObject(entries: Record<string, AmfValue> = {}): AmfObject {
  const out: AmfObject = Object.create(null) as AmfObject;
  for (const [k, v] of Object.entries(entries)) out[k] = v;
  return out;
}

function isPlainAmfObject(value: object): value is AmfObject {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

class Decoder {
  private elements = 0;
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly limits: AmfDecodeLimits,
  ) {}

  private fail(message: string): never {
    throw new RtmpProtocolError('RTMP_AMF_INVALID', message);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail('AMF0 value truncated');
  }

  private utf8(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  private shortString(): string {
    this.need(2);
    const len = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return this.utf8(len);
  }

  private longLength(): number {
    this.need(4);
    const len = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return len;
  }

  private count(n = 1): void {
    this.elements += n;
    if (this.elements > this.limits.maxElements) {
      throw new RtmpProtocolError('RTMP_AMF_TOO_MANY_ELEMENTS', 'AMF0 message has too many values');
    }
  }

  /** Properties up to the 00 00 09 terminator. */
  private properties(depth: number): AmfObject {
    const out: AmfObject = Object.create(null) as AmfObject;
    for (;;) {
      this.need(3);
      if (
        this.buf[this.pos] === 0 &&
        this.buf[this.pos + 1] === 0 &&
        this.buf[this.pos + 2] === AmfMarker.ObjectEnd
      ) {
        this.pos += 3;
        return out;
      }
      const key = this.shortString();
      this.count();
      out[key] = this.value(depth);
    }
  }

  value(depth: number): AmfValue {
    if (depth > this.limits.maxDepth) {
      throw new RtmpProtocolError('RTMP_AMF_TOO_DEEP', 'AMF0 values nested too deeply');
    }
    this.need(1);
    const marker = this.buf[this.pos++]!;
    this.count();
    switch (marker) {
      case AmfMarker.Number: {
        this.need(8);
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case AmfMarker.Boolean:
        this.need(1);
        return this.buf[this.pos++] !== 0;
      case AmfMarker.String:
        return this.shortString();
      case AmfMarker.Object:
        return this.properties(depth + 1);
      case AmfMarker.Null:
        return null;
      case AmfMarker.Undefined:
      case AmfMarker.Unsupported:
        return undefined;
      case AmfMarker.EcmaArray:
        // The count is a hint only (ffmpeg writes it, Flash ignores it): the terminator decides.
        this.longLength();
        return new AmfEcmaArray(this.properties(depth + 1));
      case AmfMarker.StrictArray: {
        const n = this.longLength();
        // Every value takes at least one byte: reject a count the message cannot hold before looping.
        if (n > this.buf.length - this.pos) this.fail('AMF0 strict array longer than its message');
        this.count(n);
        const out: AmfValue[] = new Array<AmfValue>(n);
        for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
        return out;
      }
      case AmfMarker.Date: {
        this.need(10);
        const ms = this.buf.readDoubleBE(this.pos);
        this.pos += 10; // the time zone is reserved and must be ignored
        return new Date(ms);
      }
      case AmfMarker.LongString:
        return this.utf8(this.longLength());
      case AmfMarker.XmlDocument:
        return new AmfXmlDocument(this.utf8(this.longLength()));
      case AmfMarker.TypedObject: {
        const className = this.shortString();
        return new AmfTypedObject(className, this.properties(depth + 1));
      }
      case AmfMarker.AvmPlus:
        throw new RtmpProtocolError('RTMP_AMF_UNSUPPORTED', 'AMF3 values are not supported');
      case AmfMarker.Reference:
      case AmfMarker.MovieClip:
      case AmfMarker.RecordSet:
        throw new RtmpProtocolError('RTMP_AMF_UNSUPPORTED', 'AMF0 marker not supported');
      default:
        return this.fail('unknown AMF0 marker');
    }
  }
}

/** Decodes one value at `offset`; returns it and the offset after it. Throws RtmpProtocolError. */
export function amf0DecodeOne(
  buf: Buffer,
  offset = 0,
  limits: AmfDecodeLimits = defaultAmfDecodeLimits,
): { value: AmfValue; end: number } {
  const d = new Decoder(buf, offset, limits);
  const value = d.value(0);
  return { value, end: d.pos };
}

/** Decodes every value in `buf` (a command or data message body). Throws RtmpProtocolError. */
export function amf0DecodeAll(
  buf: Buffer,
  offset = 0,
  limits: AmfDecodeLimits = defaultAmfDecodeLimits,
): AmfValue[] {
  // One decoder for the whole message, so the element budget covers the message, not each value.
  const d = new Decoder(buf, offset, limits);
  const out: AmfValue[] = [];
  while (d.pos < buf.length) out.push(d.value(0));
  return out;
}

const MAX_ENCODE_DEPTH = 64;

class Encoder {
  private parts: Buffer[] = [];

  private byte(b: number): void {
    this.parts.push(Buffer.of(b));
  }

  private number(v: number): void {
    const b = Buffer.allocUnsafe(9);
    b[0] = AmfMarker.Number;
    b.writeDoubleBE(v, 1);
    this.parts.push(b);
  }

  private key(k: string): void {
    const bytes = Buffer.from(k, 'utf8');
    if (bytes.length > 0xffff) throw new RangeError('AMF0 property name longer than 65535 bytes');
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(bytes.length, 0);
    this.parts.push(len, bytes);
  }

  private properties(obj: AmfObject, depth: number): void {
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      this.key(k);
      this.value(v, depth + 1);
    }
    this.parts.push(Buffer.of(0, 0, AmfMarker.ObjectEnd));
  }

  private u32(marker: number, n: number): void {
    const b = Buffer.allocUnsafe(5);
    b[0] = marker;
    b.writeUInt32BE(n, 1);
    this.parts.push(b);
  }

  value(v: AmfValue, depth: number): void {
    if (depth > MAX_ENCODE_DEPTH) throw new RangeError('AMF0 value nested too deeply to encode');
    if (v === null) return this.byte(AmfMarker.Null);
    if (v === undefined) return this.byte(AmfMarker.Undefined);
    if (typeof v === 'number') return this.number(v);
    if (typeof v === 'boolean') {
      this.parts.push(Buffer.of(AmfMarker.Boolean, v ? 1 : 0));
      return;
    }
    if (typeof v === 'string') {
      const bytes = Buffer.from(v, 'utf8');
      if (bytes.length <= 0xffff) {
        const h = Buffer.allocUnsafe(3);
        h[0] = AmfMarker.String;
        h.writeUInt16BE(bytes.length, 1);
        this.parts.push(h, bytes);
      } else {
        this.u32(AmfMarker.LongString, bytes.length);
        this.parts.push(bytes);
      }
      return;
    }
    if (Array.isArray(v)) {
      this.u32(AmfMarker.StrictArray, v.length);
      for (const item of v) this.value(item, depth + 1);
      return;
    }
    if (v instanceof Date) {
      const b = Buffer.alloc(11);
      b[0] = AmfMarker.Date;
      b.writeDoubleBE(v.getTime(), 1);
      this.parts.push(b);
      return;
    }
    if (v instanceof AmfEcmaArray) {
      this.u32(AmfMarker.EcmaArray, Object.keys(v.properties).length);
      return this.properties(v.properties, depth);
    }
    if (v instanceof AmfTypedObject) {
      this.byte(AmfMarker.TypedObject);
      this.key(v.className);
      return this.properties(v.properties, depth);
    }
    if (v instanceof AmfXmlDocument) {
      const bytes = Buffer.from(v.xml, 'utf8');
      this.u32(AmfMarker.XmlDocument, bytes.length);
      this.parts.push(bytes);
      return;
    }
    if (!isPlainAmfObject(v)) throw new TypeError('value cannot be encoded as AMF0');
    this.byte(AmfMarker.Object);
    this.properties(v, depth);
  }

  result(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Encodes values back to back, as in a command message. */
export function amf0Encode(...values: AmfValue[]): Buffer {
  const e = new Encoder();
  for (const v of values) e.value(v, 0);
  return e.result();
}
