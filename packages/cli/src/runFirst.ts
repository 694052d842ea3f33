// What main.ts does before it loads a short-lived command that signs, done by the run bundle's
// entry (runMain.ts) as its first import, so before any module of `lily run` loads: the key's
// scrypt starts on the thread pool, the young generation grows at once, and zod makes its schemas
// without its JIT (see each module).
import { startSigningKey } from "./earlyKey.ts";
import { growYoungGenerationAtOnce } from "./shortLivedHeap.ts";
import "./zodWithoutJit.ts";

startSigningKey(process.argv.slice(2));
growYoungGenerationAtOnce();
