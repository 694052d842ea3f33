// Options of the store process and their defaults; the CLI maps flags onto them.
export interface StoreOptions {
  dataDir: string;
  host: string;
  port: number;
  maxBlockBytes: number;
}

export const defaultStoreOptions: Omit<StoreOptions, "dataDir"> = {
  host: "127.0.0.1",
  port: 0,
  maxBlockBytes: 256 * 1024 * 1024,
};
