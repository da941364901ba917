"""Experiments' results: exposures, per-variant metric sums, and the statistics over them."""
