import KNN from 'ml-knn';

/** k-NN (Euclidean, majority vote over the k nearest training rows) through ml-knn's k-d tree. */
export function trainKnn(x: ArrayLike<number>[], y: number[], k: number): { predict(q: ArrayLike<number>[]): number[] } {
  const knn = new KNN(x.map((r) => Array.from(r)), y, { k });
  return { predict: (q) => knn.predict(q.map((r) => Array.from(r))) as number[] };
}
