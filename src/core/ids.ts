/** Run ids and readable run names ("add-3f2" for task runs, "crimson-otter" for flow runs). */
import { randomBytes, randomUUID } from "node:crypto";

export function newRunId(): string {
  return randomUUID();
}

export function taskRunName(taskName: string): string {
  // Math.random is enough for a display suffix and far cheaper than crypto at high task rates.
  return `${taskName}-${Math.floor(Math.random() * 4096).toString(16).padStart(3, "0")}`;
}

const ADJECTIVES = ["amber", "brave", "calm", "crimson", "daring", "eager", "gentle", "jolly", "keen", "lively",
  "mellow", "nimble", "proud", "quiet", "rapid", "silver", "tidy", "vivid", "witty", "zesty"];
const ANIMALS = ["badger", "crane", "dolphin", "falcon", "gecko", "heron", "ibis", "jackal", "koala", "lemur",
  "marmot", "newt", "otter", "panda", "quail", "raven", "stoat", "tapir", "walrus", "yak"];

export function flowRunName(): string {
  const [a, b] = randomBytes(2);
  return `${ADJECTIVES[a! % ADJECTIVES.length]}-${ANIMALS[b! % ANIMALS.length]}`;
}
