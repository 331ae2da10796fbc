import { distance } from "fastest-levenshtein";

/**
 * The candidate closest to `word` when it is close enough to be a likely typo
 * (`parms` -> `params`, `finetune9` -> `finetune1`), else null.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | null {
  const list = [...candidates];
  // `gpu` means `tensorflow-gpu` more likely than `cpu`: a whole part of a name wins.
  const containing = list.filter((candidate) => candidate.split(/[-_.]/).includes(word));
  if (containing.length === 1) return containing[0] ?? null;
  const allowed = Math.max(2, Math.floor(word.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of list) {
    const d = candidate.toLowerCase() === word.toLowerCase() ? 0.5 : distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= allowed && bestDistance < word.length ? best : null;
}

/** A "did you mean" hint, or none. */
export function didYouMean(word: string, candidates: Iterable<string>): string[] {
  const match = closestMatch(word, candidates);
  return match === null ? [] : [`did you mean \`${match}\`?`];
}
