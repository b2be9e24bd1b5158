/**
 * Just enough XML for the MNS wire format: elements, text, entities, CDATA. Strict where MNS
 * is strict, so an unescaped `<` or `&` in a message body fails here as it fails on MNS.
 */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

export class MalformedXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedXmlError';
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new MalformedXmlError(`bare '&' in text near ${JSON.stringify(whole)}`);
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const named = ENTITIES[ref];
    if (named === undefined) throw new MalformedXmlError(`unknown entity &${ref};`);
    return named;
  });
}

export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const top = (): XmlElement | undefined => stack[stack.length - 1];
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const textEnd = lt === -1 ? source.length : lt;
    if (textEnd > i) {
      const raw = source.slice(i, textEnd);
      const parent = top();
      if (parent === undefined) {
        if (raw.trim() !== '') throw new MalformedXmlError('text outside the root element');
      } else {
        if (raw.includes(']]>')) throw new MalformedXmlError("']]>' in text");
        parent.text += decodeEntities(raw);
      }
    }
    if (lt === -1) break;
    if (source.startsWith('<?', lt)) {
      const end = source.indexOf('?>', lt);
      if (end === -1) throw new MalformedXmlError('unterminated declaration');
      i = end + 2;
    } else if (source.startsWith('<!--', lt)) {
      const end = source.indexOf('-->', lt);
      if (end === -1) throw new MalformedXmlError('unterminated comment');
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt);
      const parent = top();
      if (end === -1 || parent === undefined) throw new MalformedXmlError('misplaced CDATA');
      parent.text += source.slice(lt + 9, end);
      i = end + 3;
    } else if (source.startsWith('</', lt)) {
      const end = source.indexOf('>', lt);
      const name = source.slice(lt + 2, end).trim();
      const open = stack.pop();
      if (end === -1 || open === undefined || open.name !== name) {
        throw new MalformedXmlError(`unexpected closing tag </${name}>`);
      }
      i = end + 1;
    } else {
      const end = source.indexOf('>', lt);
      if (end === -1) throw new MalformedXmlError('unterminated tag');
      const inner = source.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      const name = /^[A-Za-z_][\w.-]*/.exec(inner)?.[0];
      if (name === undefined) throw new MalformedXmlError(`bad tag <${inner}>`);
      const element: XmlElement = { name, children: [], text: '' };
      const parent = top();
      if (parent !== undefined) parent.children.push(element);
      else if (root === undefined) root = element;
      else throw new MalformedXmlError('more than one root element');
      if (!selfClosing) stack.push(element);
      i = end + 1;
    }
  }
  if (stack.length > 0 || root === undefined) throw new MalformedXmlError('unclosed or missing root element');
  return root;
}

/** The text of a direct child that must hold text only; undefined when absent. */
export function childText(element: XmlElement, name: string): string | undefined {
  const child = element.children.find((c) => c.name === name);
  if (child === undefined) return undefined;
  if (child.children.length > 0) throw new MalformedXmlError(`<${name}> must contain text only`);
  return child.text;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

export type XmlValue = string | number | boolean | XmlFields | XmlFields[];
export interface XmlFields {
  [key: string]: XmlValue | undefined;
}

/** The elements of `obj` without a root; arrays repeat their key. */
export function xmlFields(obj: XmlFields): string {
  let out = '';
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) out += `<${key}>${xmlFields(item)}</${key}>`;
    else if (typeof value === 'object') out += `<${key}>${xmlFields(value)}</${key}>`;
    else out += `<${key}>${escapeXml(String(value))}</${key}>`;
  }
  return out;
}

/** `<?xml ...?><root xmlns="...">fields</root>`; arrays repeat their key. */
export function toXml(root: string, obj: XmlFields): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://mns.aliyuncs.com/doc/v1/">${xmlFields(obj)}</${root}>`;
}
