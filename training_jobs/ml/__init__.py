"""Training, evaluation and serving of the safety and intent classifiers, free of Django.

``training_jobs.services`` wraps this package with model versions and jobs;
``conversations.backends.classifiers`` loads its artifacts at run time.
"""
