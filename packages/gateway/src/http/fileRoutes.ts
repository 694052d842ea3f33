// A job's file inputs from the browser: POST /v1/files?field=<input> takes one file's bytes
// (key or session, at most MAX_INPUT_FILE_BYTES), puts them in the store as one raw block and
// answers its CID, which then stands in the job's inputs exactly as the SDK's prepareInputs puts
// it there for `lily run -i image=photo.png`. And `refuseNonCidFiles`, which POST /v1/jobs runs
// first: through the gateway a file input must be a CID already in the store, never a path, since
// the SDK reads a path from the local disk, and the gateway's disk holds its keys.
import { HttpRefusal, readBody } from "@lily/api";
import { isCid, isLilyError, LilyError, type ModuleManifest } from "@lily/protocol";
import type { GatewayContext } from "../context.ts";
import { type Route, sendJson } from "./router.ts";

/** Largest file input taken in one request: an image, a recording or a document, one raw block. */
export const MAX_INPUT_FILE_BYTES = 32 * 1024 * 1024;

/** An input's name as module manifests spell them (and as the 413 names it back). */
const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

export function fileRoutes(gw: GatewayContext): Route[] {
  return [
    {
      method: "POST",
      path: "/v1/files",
      handler: async (ctx) => {
        // Who first, then what: nothing is read from a caller without a key or a session.
        const caller = gw.auth.anyCaller(ctx.req);
        const field = ctx.query.get("field") ?? "";
        // REJECT: the input's name is needed to name it in every refusal, the size one included
        if (!INPUT_NAME.test(field))
          throw new LilyError({ code: "INVALID_INPUT", field: "field", message: "field: give the name of the file input this is for, e.g. ?field=image" });
        let body: Buffer;
        try {
          body = await readBody(ctx.req, ctx.res, MAX_INPUT_FILE_BYTES);
        } catch (e) {
          // REJECT: over the limit (announced or streamed): a 413 naming the input, not "body"
          if (e instanceof HttpRefusal && e.status === 413)
            throw new HttpRefusal(413, {
              code: "INVALID_INPUT",
              field: `inputs.${field}`,
              message: `inputs.${field}: the file is larger than the gateway takes (${MAX_INPUT_FILE_BYTES / 1024 / 1024} MiB); nothing was stored`,
              hint: "send a smaller file, or run the job with `lily run`, which uploads to the store directly",
              details: { limitBytes: MAX_INPUT_FILE_BYTES },
            });
          throw e;
        }
        // REJECT: an empty file is almost always a failed read on the client's side
        if (body.length === 0)
          throw new LilyError({ code: "INVALID_INPUT", field: `inputs.${field}`, message: `inputs.${field}: the file is empty; nothing was stored` });
        const cid = await gw.store.putBytes(body);
        gw.log.info("job input file stored", { cid, bytes: body.length, field, by: caller.owner });
        sendJson(ctx.res, 201, { cid, field, size: body.length });
      },
    },
  ];
}

/**
 * Every `file` input must be the CID of bytes the store holds. The SDK takes a path there too and
 * uploads that file from the local disk: right for `lily run` on the user's own machine, but
 * through the gateway the disk is the gateway's (its keys, its databases).
 */
export async function refuseNonCidFiles(
  manifest: Pick<ModuleManifest, "inputs">,
  inputs: Record<string, unknown>,
  store: GatewayContext["store"],
): Promise<void> {
  for (const [name, value] of Object.entries(inputs)) {
    if (manifest.inputs[name]?.type !== "file") continue;
    // REJECT: a path (or anything else) in a file input would be read from the gateway's own disk
    if (typeof value !== "string" || !isCid(value))
      throw new LilyError({
        code: "INVALID_INPUT",
        field: `inputs.${name}`,
        message: `inputs.${name}: expected the CID of an uploaded file (POST /v1/files?field=${name} answers it), not a path`,
      });
    // REJECT: a CID the store does not hold would only fail at the provider, after the deal is paid for
    let held: boolean;
    try {
      held = await store.has(value);
    } catch (e) {
      if (isLilyError(e, "INVALID_INPUT")) held = false;
      else throw e;
    }
    if (!held)
      throw new LilyError({
        code: "INVALID_INPUT",
        field: `inputs.${name}`,
        message: `inputs.${name}: ${value} is not in the store; upload the file first (POST /v1/files?field=${name})`,
      });
  }
}
