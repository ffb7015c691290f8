"""Background work: the reconcile job, the worker app, the crash-safety sweep."""
