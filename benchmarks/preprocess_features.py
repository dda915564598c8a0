"""`covid-mtl-375` extraction vs a plain pyradiomics run with every class and wavelets on.

    python -m benchmarks.preprocess_features [--shape 100 125 125]

The plain run is what a user writes first: `RadiomicsFeatureExtractor(binWidth=25)`, all
feature classes, Original + Wavelet image types, then picks the 375 columns. Same volume.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import SimpleITK as sitk

from mtl_study.preprocess.radiomics import extract_features, get_feature_set
from tests.preprocess.phantoms import chest_phantom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(80, 112, 112))
    args = parser.parse_args()
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    from radiomics.featureextractor import RadiomicsFeatureExtractor

    volume, lungs, _ = chest_phantom(tuple(args.shape), seed=0, lesions=6)
    volume = np.where(lungs, volume, 0).astype(np.uint16)
    start = time.perf_counter()
    ours = extract_features(volume, "covid-mtl-375")
    t_ours = time.perf_counter() - start

    extractor = RadiomicsFeatureExtractor(binWidth=25)
    extractor.enableAllFeatures()
    extractor.enableImageTypeByName("Wavelet")
    image = sitk.GetImageFromArray(volume.astype(np.float32))
    mask = sitk.GetImageFromArray((volume > 0).astype(np.uint8))
    start = time.perf_counter()
    plain = extractor.execute(image, mask, label=1)
    t_plain = time.perf_counter() - start

    fs = get_feature_set("covid-mtl-375")
    same = all(
        np.isclose(ours[c], float(plain[s]), rtol=1e-6)
        for c, s in zip(fs.columns, fs.sources, strict=True)
    )
    print(f"volume {tuple(args.shape)}, {int((volume > 0).sum())} lung voxels")
    print(f"covid-mtl-375: {t_ours:.1f} s ({len(ours)} features)")
    print(f"plain pyradiomics, all classes + wavelet: {t_plain:.1f} s ({len(plain)} keys)")
    print(f"ratio plain / ours: {t_plain / t_ours:.2f}x; identical values: {same}")


if __name__ == "__main__":
    main()
