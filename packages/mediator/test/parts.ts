// Real parts with a handle for the test: an executor whose runs wait at a gate the test opens
// (so the chain can move while a mediator re-runs), and a store client that has lost some
// blocks (so a mediator cannot fetch what the provider could). Both wrap the real thing.
import { LilyError } from "@lily/protocol";
import { StoreClient } from "@lily/store";
import { createWasmExecutor, type Executor } from "@lily/executor";

export interface GatedExecutor extends Executor {
  /** Resolves once a run is waiting at the gate. */
  waiting: Promise<void>;
  /** Let every run, held or to come, start. */
  open(): void;
}

export function gatedExecutor(inner: Executor = createWasmExecutor()): GatedExecutor {
  let open!: () => void;
  let arrived!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const waiting = new Promise<void>((r) => (arrived = r));
  return {
    waiting,
    open,
    async start(spec) {
      arrived();
      await gate;
      return inner.start(spec);
    },
    wait: (h) => inner.wait(h),
    stop: (h) => inner.stop(h),
    inspect: (h) => inner.inspect(h),
  };
}

/** A client of the same store that answers NOT_FOUND for the blocks it has lost, until they come back. */
export class ForgetfulStore extends StoreClient {
  readonly lost = new Set<string>();

  override async getBytes(cid: string): Promise<Uint8Array> {
    if (this.lost.has(cid)) throw new LilyError({ code: "NOT_FOUND", field: "cid", message: `block ${cid} not found` });
    return super.getBytes(cid);
  }
}
