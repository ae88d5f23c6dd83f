/** Tidemark's version, stamped into manifests and reports. */
export const VERSION = "0.1.0";
