// The four resource dimensions a job needs and an offer provides, and arithmetic on them.
export interface Resources {
  cpu: number;
  memoryMb: number;
  gpu: number;
  vramMb: number;
}

export const RESOURCE_KEYS = ["cpu", "memoryMb", "gpu", "vramMb"] as const;

export const NO_RESOURCES: Resources = { cpu: 0, memoryMb: 0, gpu: 0, vramMb: 0 };

/** The resource part of a job offer or resource offer. */
export function resourcesOf(r: Resources): Resources {
  return { cpu: r.cpu, memoryMb: r.memoryMb, gpu: r.gpu, vramMb: r.vramMb };
}

export function addResources(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu + b.cpu, memoryMb: a.memoryMb + b.memoryMb, gpu: a.gpu + b.gpu, vramMb: a.vramMb + b.vramMb };
}
