// Structured logging: one JSON object per line, with a level, a module name and fields. Roles log;
// only the CLI prints for people. LILY_LOG_LEVEL picks the threshold (debug, info, warn, error).
export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(module: string): Logger;
}

export interface LoggerOptions {
  module: string;
  level?: Level;
  /** Where lines go; defaults to stderr so stdout stays for program output. */
  write?: (line: string) => void;
}

function serialise(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return { name: v.name, message: v.message, ...("code" in v ? { code: (v as { code: unknown }).code } : {}) };
  return v;
}

export function createLogger(opts: LoggerOptions): Logger {
  const threshold = order[opts.level ?? (process.env.LILY_LOG_LEVEL as Level | undefined) ?? "info"] ?? order.info;
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log =
    (level: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (order[level] < threshold) return;
      const rec: Record<string, unknown> = { t: new Date().toISOString(), level, module: opts.module, msg };
      for (const [k, v] of Object.entries(fields)) rec[k] = serialise(v);
      write(JSON.stringify(rec));
    };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (module) => createLogger({ ...opts, module: `${opts.module}/${module}` }),
  };
}
