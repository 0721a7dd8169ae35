/**
 * A function examples/bag.ts passes to a Bag by reference: it uses a module variable, so it cannot travel by source;
 * exported at the top level of a module that only defines things, a worker imports it from here.
 */
const STOP_WORDS = new Set(["the", "a", "of", "and"]);

export function isContentWord(word: string): boolean {
  return word !== "" && !STOP_WORDS.has(word);
}
