/** What an architecture builder returns: its graph outputs with their public names. */
export type ArchOutputs = {
  tensor: string;
  name: string;
  /** Size of the last axis of the [1, N, last] output. */
  last: number;
}[];
