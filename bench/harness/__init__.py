"""What the ingestion benchmarks share: the synthetic workload and the raw engine baseline.

A package, not scripts: ``make bench`` runs every ``bench/*.py``, and these only serve them.
"""
