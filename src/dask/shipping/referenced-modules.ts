/**
 * Modules of the functions passed by reference so far (a Bag's, or a plain function given to a DaskClient). Their
 * refs sit inside encoded steps and arguments, which a runner cannot search, so it ships all of these to the workers
 * before it sends tasks or collections. No dependencies: the runner, loaded in every sidecar, imports it.
 */
export const referencedModules = new Set<string>();
