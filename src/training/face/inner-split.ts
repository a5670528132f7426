/**
 * Subject-wise inner folds over the training actors of one outer fold: actors sorted and dealt round-robin into
 * `k` groups, so every training clip gets an out-of-fold posterior from a model that never saw its actor.
 */
export function innerActorFolds(trainActors: number[], k = 5): number[][] {
  const sorted = [...new Set(trainActors)].sort((a, b) => a - b);
  if (sorted.length < k) throw new Error(`innerActorFolds: ${sorted.length} actors cannot make ${k} folds`);
  const groups: number[][] = Array.from({ length: k }, () => []);
  sorted.forEach((a, i) => groups[i % k].push(a));
  return groups;
}
