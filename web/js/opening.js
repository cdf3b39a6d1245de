// What a new visitor sees first, chosen by measurement: the best bundled *found* network
// (highest mean PSNR in the trainer's evaluations of it), and the bundled image on which
// the bundled models differ most (largest PSNR spread between them), so that the first
// comparison shows a visible difference.

const evaluations = new Map(); // url → promise of the file (or null), fetched once

/** The trainer's evaluation of `file` on image set `set` (`<stem>.<set>.json`, written by
 * `trainer eval` next to the model; `bicubic` for bicubic's), or null when there is none. */
export function evaluation(file, set) {
  const url = `models/${file.replace(/\.qnm$/, "")}.${set.toLowerCase()}.json`;
  if (!evaluations.has(url)) {
    evaluations.set(
      url,
      fetch(url)
        .then((res) => (res.ok ? res.json() : null))
        .catch(() => null),
    );
  }
  return evaluations.get(url);
}

/**
 * `models`: the loaded models ({file, genotype}); `images`: the bundled images ({set,
 * stem}). Resolves to {model, image, why}: indices (model null when none is bundled) and
 * a sentence saying how they were chosen.
 */
export async function chooseOpening(models, images) {
  const sets = [...new Set(images.map((im) => im.set))];
  // psnr[m] : Map("set/stem" → dB) of model m.
  const psnr = await Promise.all(
    models.map(async (m) => {
      const byImage = new Map();
      for (const set of sets) {
        const e = await evaluation(m.file, set);
        for (const im of e?.images || []) byImage.set(`${set}/${im.name}`, im.psnr);
      }
      return byImage;
    }),
  );
  const mean = (map) => (map.size ? [...map.values()].reduce((a, b) => a + b, 0) / map.size : -Infinity);
  // Found networks are the ones with a genotype; a fixed network opens only if none is.
  const found = models.map((m, i) => i).filter((i) => models[i].genotype);
  const candidates = found.length ? found : models.map((_, i) => i);
  let model = candidates.length ? candidates[0] : null;
  for (const i of candidates) if (mean(psnr[i]) > mean(psnr[model])) model = i;

  let image = 0;
  let gap = -Infinity;
  images.forEach((im, k) => {
    const values = psnr.map((p) => p.get(`${im.set}/${im.stem}`)).filter((v) => v !== undefined);
    if (values.length < 2) return;
    const spread = Math.max(...values) - Math.min(...values);
    if (spread > gap) {
      gap = spread;
      image = k;
    }
  });
  const why =
    gap > -Infinity
      ? `${images[image].name}: the bundled models differ most here (${gap.toFixed(2)} dB PSNR apart in the trainer's evaluations)`
      : "";
  return { model, image, why };
}
