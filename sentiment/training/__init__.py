"""Training and evaluation of the negativity head on the shared labelled data sets."""
