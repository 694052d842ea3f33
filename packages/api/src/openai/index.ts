// OpenAI's wire format as Lily speaks it: requests, responses and errors.
export * from "./requests.ts";
export * from "./responses.ts";
export * from "./errors.ts";
