"""The segmenter contract: a lung mask from a CT volume at 1 mm spacing."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

#: -420 HU on the shifted scale (HU + 1024): the air/tissue threshold of SPEC 2.3.
AIR_THRESHOLD = 604


class Segmenter(ABC):
    """Turns a volume into a boolean lung mask.

    The pipeline calls `segment` once per case, in a Dask worker, on a `(D, H, W)` uint16
    volume in the shifted-HU convention resampled to 1 x 1 x 1 mm. Implementations must not
    modify the input and must return a boolean array of the same shape. Constructors only
    store options, so a segmenter pickles cheaply to workers.
    """

    name: str = ""

    @abstractmethod
    def segment(self, volume: np.ndarray) -> np.ndarray:
        """Lung mask of `volume`.

        Args:
            volume: `(D, H, W)` uint16, shifted HU, 1 mm spacing.

        Returns:
            `(D, H, W)` bool mask of both lungs.
        """
