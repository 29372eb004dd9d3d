/** Writes one log line (JSON). Node prints to stdout; Workers to its log stream. */
export type LogSink = (line: string) => void;

/** One structured log entry. */
export type LogEntry = Record<string, unknown> & { level: 'info' | 'warn' | 'error'; msg: string };

// OpenAI keys look like sk-..., sk-proj-...; OpenAI echoes a masked part of a bad key in its
// error messages, which is still more than a log needs.
const KEY_PATTERN = /sk-[A-Za-z0-9_*-]{6,}/g;

/** Replaces every secret (and anything shaped like an OpenAI key) with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out.replace(KEY_PATTERN, '[redacted]');
}

/** A logger that serialises entries and redacts `secrets` from the whole line. */
export function createLogger(sink: LogSink, secrets: readonly string[]): (entry: LogEntry) => void {
  return (entry) => {
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ level: entry.level, msg: entry.msg });
    }
    sink(redact(line, secrets));
  };
}
