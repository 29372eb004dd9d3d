/**
 * Line-by-line text output encoded to UTF-8 in chunks of about a megabyte: a 500k-triangle DXF or
 * OBJ is ~100 MB of text, and one big string or array of strings would hold several times that.
 */
export class TextWriter {
  private readonly parts: Uint8Array[] = [];
  private pending: string[] = [];
  private pendingLength = 0;
  private readonly encoder = new TextEncoder();

  /** Appends `text` and a line feed. */
  line(text: string): void {
    this.pending.push(text);
    this.pendingLength += text.length + 1;
    if (this.pendingLength > 1 << 20) this.flush();
  }

  /** Every line written so far, as UTF-8. */
  bytes(): Uint8Array<ArrayBuffer> {
    this.flush();
    const out = new Uint8Array(this.parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(this.encoder.encode(`${this.pending.join('\n')}\n`));
    this.pending = [];
    this.pendingLength = 0;
  }
}
