/** A local module the tasks import: it must travel with them to hosts that cannot see this repository. */
export function triangle(n: number): number {
  return (n * (n + 1)) / 2;
}

export const HELPER_TAG = "helper-v1";
