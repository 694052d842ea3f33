// Resources: the four dimensions a provider offers and a job needs (detect.ts finds what this
// machine has), and the arithmetic a provider needs to know how much of it its own deals hold.

/** The four dimensions a job needs and an offer provides. */
export interface Resources {
  cpu: number;
  memoryMb: number;
  gpu: number;
  vramMb: number;
}

export const RESOURCE_KEYS = ["cpu", "memoryMb", "gpu", "vramMb"] as const satisfies readonly (keyof Resources)[];

export const NO_RESOURCES: Resources = { cpu: 0, memoryMb: 0, gpu: 0, vramMb: 0 };

/** The resource part of a job offer, a resource offer or anything else carrying the four fields. */
export function resourcesOf(r: Resources): Resources {
  return { cpu: r.cpu, memoryMb: r.memoryMb, gpu: r.gpu, vramMb: r.vramMb };
}

export function addResources(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu + b.cpu, memoryMb: a.memoryMb + b.memoryMb, gpu: a.gpu + b.gpu, vramMb: a.vramMb + b.vramMb };
}

/** The first dimension in which `need` does not fit in what `capacity` has left after `held`. */
export function shortfall(need: Resources, held: Resources, capacity: Resources): keyof Resources | undefined {
  return RESOURCE_KEYS.find((k) => held[k] + need[k] > capacity[k]);
}
