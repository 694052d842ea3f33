// Process lifecycle: run cleanup steps in reverse order on SIGINT/SIGTERM or when asked, once.
export interface Lifecycle {
  onShutdown(step: () => Promise<void> | void): void;
  shutdown(): Promise<void>;
}

export function createLifecycle(opts: { handleSignals?: boolean } = {}): Lifecycle {
  const steps: (() => Promise<void> | void)[] = [];
  let done: Promise<void> | undefined;
  const shutdown = () =>
    (done ??= (async () => {
      for (const step of steps.reverse()) {
        try {
          await step();
        } catch {
          // a failing cleanup step must not stop the others; the process is exiting anyway
        }
      }
    })());
  if (opts.handleSignals) {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.once(sig, () => void shutdown().then(() => process.exit(sig === "SIGINT" ? 130 : 143)));
    }
  }
  return { onShutdown: (s) => void steps.push(s), shutdown };
}
