# Model registry and training jobs: see issue 4 (filled in by the classifiers work).
