import type { FusionHeadParams } from '../../models/fusion/head.js';
import type { FusionReport } from './train-fusion.js';

const pct = (x: number): string => (100 * x).toFixed(2);

/** models/fusion/README.md: what the heads are, data/licence, folds, accuracy, input contract. */
export function fusionModelCard(o: { heads: FusionHeadParams[]; models: string[]; report: FusionReport | null }): string {
  const rows = o.report
    ? o.report.rows.map((r) => `- ${r.label}: ${pct(r.meanAccuracy)} % ± ${pct(r.ci95)}`).join('\n')
    : '- (no CV in this run; see report.json)';
  return `# Late fusion heads — model card

## What it is
\`fusion.json\` (format \`emostream-fusion/1\`): one head per subset of modalities (${o.heads.map((h) => `\`${h.name}\``).join(', ')}),
each = concatenation of the base posteriors in the head's \`inputs\` order -> the head's \`features\` transform
(\`log-posteriors\`: log(max(p, 1e-6)); \`posteriors\`: none, the paper's choice) -> per-column min-max
(\`normaliser\`: {min, max}) -> multinomial logistic regression (\`weights\` [8][8·inputs], \`bias\` [8]) -> softmax.
L2 with C = 1 in scikit-learn's sense (minimise 0.5·‖W‖² + C·Σ cross-entropy, intercepts not penalised), solved with L-BFGS.
Loaded by \`loadFusion\` (src/models/fusion/index.ts); pure TypeScript, synchronous.

Base models: ${o.models.join(', ')}. Heads are fitted on every clip's out-of-fold posterior (union of the 5 folds'
test.csv: each clip scored by a base model that never trained on its actor), so the fusion does not learn to over-trust
the base models.

## Data and licence
RAVDESS (Livingstone & Russo 2018), 1,440 audio-visual speech clips, 24 actors. **CC BY-NC-SA 4.0**: the heads are
derived from it and inherit the licence (non-commercial, attribution, share-alike).

## Evaluation (subject-wise 5-fold CV, the paper's folds F0 {2,5,14,15,16} F1 {3,6,7,13,18} F2 {10,11,12,19,20} F3 {8,17,21,23,24} F4 {1,4,9,22})
${rows}

Paper (speech + bi-LSTM + static MLP): 86.70 %. Details: \`report.md\` / \`report.json\`.
Reproduce: \`npx emostream train fusion --cv --posteriors posteriors --models speech,face-mlp80-norm --out models/fusion\` (three-model variant: \`models/fusion/three-bases/\`).

## Input contract
\`fuse({speech, face, expression})\`: each an 8-value posterior in EMOTIONS order (neutral, calm, happy, sad, angry,
fearful, disgust, surprised) or null. The head for exactly the present subset is used; a modality without a head
(\`expression\` today) is ignored; values that are not 8 finite numbers are treated as absent. No input: uniform,
head \`none\`. Output: {probs (8, sums to 1), head}.
`;
}
