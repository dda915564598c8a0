"""Cohorts: the directory every stage reads (manifest, features, descriptor), its validation,
splits, importers and the synthetic default. Import the submodules (`cohort`, `splits`,
`synth`, `default`, `importers`); this package stays import-light so `schema` costs nothing.
"""
