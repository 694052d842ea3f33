// How long a provider's signed Result is waited for once the chain shows the deal's outcome: after
// a LilyDeals commit the job creator delivers on the chain's digest alone past it; after a trust
// deal's settlement on LilyTrustDeals (no digest on chain), past the deadline plus it the job
// creator ends the job. A provider whose Result the solver did not take keeps sending it until then.
export const SIGNED_RESULT_GRACE_SECONDS = 30n;
