"""Training pipeline of Siamark's Siamese trackers (never imported by the inference engine).

Data flow::

    datasets.discover(DIR)           -> Track (frame paths, (N, 4) boxes with NaN = absent)
    manifest.Manifest.split(tracks)  -> training tracks (evaluation sequences refused) + eval tracks
    sampling.PairSampler.sample(rng) -> Pair (127 template, 255 search crops, target box in the crop)
    data.PairDataset / PairCache     -> batches (optionally from a pre-cropped pair cache)
    families.family_for(tracker)     -> targets.* label assignment + losses.* for that head
    loop.Trainer                     -> SGD, warm-up + log decay, freezing, checkpoints, logs, export

Run ``python -m trackers.train --help``. Everything is deterministic for a given seed: pair i of
epoch e is drawn from ``numpy.random.default_rng([seed, e, i])``.
"""
