"""mtl-study: distributed ablation and hyperparameter studies for multitask 3D-CT COVID models."""

from __future__ import annotations

__version__ = "0.1.0"
