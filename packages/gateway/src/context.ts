// What the gateway's handlers share: options, Halo's auth, the model catalogue, the leases it holds,
// and recording an answer (its signed record into the store, its row into the database, and an
// audit when the answer is drawn for one).
import type { Database, Logger } from "@lily/node-kit";
import type { AnswerMeta } from "@lily/api";
import type { InferenceRequest } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import type { GatewayOptions } from "./options.ts";
import type { GatewayAuth, Caller } from "./http/caller.ts";
import type { ModelCatalog } from "./models.ts";
import type { LeaseManager } from "./leases/leaseManager.ts";
import type { Answered } from "./leases/answer.ts";
import type { Embedded } from "./leases/embed.ts";
import type { ServedModel } from "./models.ts";

export interface GatewayContext {
  opts: GatewayOptions;
  db: Database;
  store: StoreClient;
  log: Logger;
  auth: GatewayAuth;
  models: ModelCatalog;
  leases: LeaseManager;
  /** The URL users reach the gateway at. */
  publicUrl(): string;
  /** Embeddings of `input` under a lease, held against and charged to the caller's key. */
  embed(model: ServedModel, input: string[], caller: Caller): Promise<Embedded>;
  /** Store the answer's signed record and remember it; returns the record's CID. */
  recordAnswer(meta: AnswerMeta, caller: Caller, request: InferenceRequest, answered: Answered): Promise<string>;
}
